// shortcut-cni: containers as Shortcut endpoints. The CNI commands over three
// narrow interfaces (the container's links, the host's switch, managerd),
// so that the sequence and its undo are tested with fakes and the real
// ones (system_ops.h, manager_api.h) stay thin.
//
// ADD:   1. managerd creates the endpoint (key and iface-id EndpointKey(),
//           the request's static address or one managerd allocates, its
//           MAC 0a:58:... from managerd) without waiting;
//        2. a veth: HostIfname() on the host, CNI_IFNAME in CNI_NETNS with
//           the endpoint's MAC, address, default route via the network's
//           first address (MTU and TX offload per configuration);
//        3. the host end on the bridge with external_ids:iface-id = the key
//           (the gateway that programs the host sees it and installs the
//           endpoint's rules);
//        4. the same CreateEndpoint again, waiting up to online_timeout_ms
//           for ONLINE (managerd answers a retry once the host confirmed
//           the rules).
//        Any failure undoes what was done (port, link, endpoint) and is
//        reported: the runtime gets an error, never a half attachment.
// DEL:   the port, the link, the endpoint; each already gone is fine (DEL
//        is idempotent and works without CNI_NETNS); managerd unreachable
//        is "try again later" (11), so the endpoint is not leaked.
// CHECK: the endpoint exists, is ONLINE, on this host, with prevResult's
//        address; the port carries its iface-id; the container's interface
//        has its MAC and address.
//
// Thread-safety: none; one command per process.
#pragma once

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shortcut/manager/v1/manager.pb.h"
#include "src/cni/request.h"
#include "src/cni/result.h"

namespace shortcut::cni {

struct LinkSpec {
  std::string host_ifname;
  std::string netns;
  std::string ifname;
  std::string mac;
  uint32_t mtu = 0;  // 0: leave the default.
  bool tx_checksum_offload = true;
  std::string address;  // "a.b.c.d/len".
  std::string gateway;
};

struct ContainerLink {
  std::string mac;
  std::vector<std::string> ipv4;  // "a.b.c.d/len".
};

// The container's veth. NotFound for something absent.
class Links {
 public:
  virtual ~Links() = default;
  virtual absl::Status Create(const LinkSpec& spec) = 0;            // Both ends, configured, up.
  virtual absl::Status Delete(const std::string& host_ifname) = 0;  // Absent: OK.
  virtual absl::StatusOr<ContainerLink> Inspect(const std::string& netns,
                                                const std::string& ifname) = 0;
};

// The host's Open vSwitch.
class Switch {
 public:
  virtual ~Switch() = default;
  virtual absl::Status AddPort(const std::string& bridge, const std::string& port,
                               const std::string& iface_id, const std::string& mac) = 0;
  virtual absl::Status DeletePort(const std::string& bridge, const std::string& port) = 0;
  // The port's external_ids:iface-id; NotFound when there is no such port.
  virtual absl::StatusOr<std::string> PortIfaceId(const std::string& port) = 0;
};

// managerd's API, as absl statuses (gRPC codes carried over).
class Manager {
 public:
  virtual ~Manager() = default;
  virtual absl::StatusOr<manager::v1::Network> GetNetwork(const std::string& vpc,
                                                          const std::string& id) = 0;
  virtual absl::StatusOr<manager::v1::Endpoint> CreateEndpoint(
      const manager::v1::Endpoint& endpoint, uint32_t online_timeout_ms) = 0;
  virtual absl::StatusOr<manager::v1::Endpoint> GetEndpoint(const std::string& key) = 0;
  virtual absl::Status DeleteEndpoint(const std::string& key) = 0;
};

class Plugin {
 public:
  Plugin(Links* links, Switch* sw, Manager* manager) : links_(links), sw_(sw), manager_(manager) {}

  std::variant<Attachment, Error> Add(const CniRequest& request);
  std::optional<Error> Del(const CniRequest& request);
  std::optional<Error> Check(const CniRequest& request);

 private:
  Links* links_;
  Switch* sw_;
  Manager* manager_;
};

// A managerd error as a CNI error: UNAVAILABLE and DEADLINE_EXCEEDED are
// "try again later" (11), the rest kManagerRefused with the status text.
Error ManagerError(const absl::Status& status, const std::string& what);

}  // namespace shortcut::cni
