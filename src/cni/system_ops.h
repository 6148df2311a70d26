// The real Links and Switch of shortcut-cni: iproute2 (through nsenter for
// the container's side) and ovs-vsctl, run as subprocesses without a shell,
// as ovn-kubernetes' CNI drives ovs-vsctl. Each command is bounded by a
// timeout; a failure carries the tool's stderr.
//
// Thread-safety: none needed (stateless but for the options).
#pragma once

#include <string>
#include <vector>

#include "src/cni/plugin.h"

namespace shortcut::cni {

class SystemLinks : public Links {
 public:
  absl::Status Create(const LinkSpec& spec) override;
  absl::Status Delete(const std::string& host_ifname) override;
  absl::StatusOr<ContainerLink> Inspect(const std::string& netns,
                                        const std::string& ifname) override;
};

class OvsVsctlSwitch : public Switch {
 public:
  explicit OvsVsctlSwitch(std::string ovsdb) : ovsdb_(std::move(ovsdb)) {}
  absl::Status AddPort(const std::string& bridge, const std::string& port,
                       const std::string& iface_id, const std::string& mac) override;
  absl::Status DeletePort(const std::string& bridge, const std::string& port) override;
  absl::StatusOr<std::string> PortIfaceId(const std::string& port) override;

 private:
  std::vector<std::string> Vsctl() const;
  std::string ovsdb_;  // --db; empty: ovs-vsctl's default.
};

// An OVSDB string atom as ovs-vsctl reads it: double-quoted, escaped.
std::string VsctlQuote(const std::string& value);

}  // namespace shortcut::cni
