// shortcut-cni's Manager over gRPC: managerd's API through ManagerClient
// (the active one of several servers, as shortcutctl).
//
// Thread-safety: none; one thread.
#pragma once

#include <string>

#include "src/cni/plugin.h"
#include "src/ctl/manager_client.h"

namespace shortcut::cni {

class GrpcManager : public Manager {
 public:
  // `servers` as ManagerClient; each call's deadline is `timeout_s`, plus
  // the online wait for CreateEndpoint.
  // `tls`: mutual TLS (nullopt: insecure).
  GrpcManager(const std::string& servers, double timeout_s,
              const std::optional<tls::GrpcTls>& tls = std::nullopt)
      : client_(servers, timeout_s, tls), timeout_s_(timeout_s) {}

  absl::StatusOr<manager::v1::Network> GetNetwork(const std::string& vpc,
                                                  const std::string& id) override;
  absl::StatusOr<manager::v1::Endpoint> CreateEndpoint(const manager::v1::Endpoint& endpoint,
                                                       uint32_t online_timeout_ms) override;
  absl::StatusOr<manager::v1::Endpoint> GetEndpoint(const std::string& key) override;
  absl::Status DeleteEndpoint(const std::string& key) override;

 private:
  ctl::ManagerClient client_;
  double timeout_s_;
};

}  // namespace shortcut::cni
