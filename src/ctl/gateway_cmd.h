// `shortcutctl gateway ...`: a client of a gateway's gRPC API
// (shortcut.gateway.v1.Gateway, and grpc.health.v1 for `health`).
//
//   shortcutctl gateway --server ADDR [--timeout SECONDS] [--json] COMMAND
//     set-cluster FILE        FILE: a SetClusterRequest in protobuf JSON ("-": stdin)
//     update-endpoint --key K --vpc V --network N --ipv4 IP [--ipv6 IP]
//                     --mac MAC --host H [--iface-id ID]
//     delete-endpoint KEY
//     add-vpc FILE            FILE: a Vpc in protobuf JSON plus "endpoints": [Endpoint...];
//                             sent as one stream, in batches of 1000 endpoints
//     add-endpoints FILE      FILE: {"endpoints": [Endpoint...]} of existing VPCs; one
//                             stream in batches of 1000, all or nothing
//     complete-load             the manager's "everything sent" (see gateway.proto)
//     delete-vpc ID
//     delete-network VPC NETWORK
//     stats | endpoints [--vpc V] [--host H] | hosts | paths | health
//
// ADDR is a gRPC target: unix:/abs/path.sock, or HOST:PORT (tcp:HOST:PORT,
// the form Shortcut's other targets take, is accepted too). --timeout bounds
// each call (default 30 s; an AddVpc stream is one call).
//
// Output: human-readable by default (aligned columns, one line per entry,
// a header line for listings); --json prints the response in protobuf's
// JSON mapping (field names as in the .proto), on one line.
// Exit status: 0 success; 1 the call failed ("shortcutctl: NOT_FOUND: ..."
// on stderr), or `health` is not SERVING; 2 bad input (an unreadable or
// malformed FILE). Command-line usage errors are CLI11's, also 2 (main.cc).
//
// Thread-safety: a GatewayCli is used by one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "src/ctl/tls_options.h"

namespace shortcut::ctl {

inline constexpr size_t kAddVpcBatch = 1000;

struct GatewayCtlOptions {
  std::string server;
  std::optional<tls::GrpcTls> tls;  // Nullopt: insecure.
  double timeout_s = 30;
  bool json = false;
};

class GatewayCli {
 public:
  // Adds the `gateway` subcommand and its own to `app`, which must outlive
  // this object; parsed values land here.
  // `tls`: the global TLS options (tls_options.h); may be null (insecure).
  explicit GatewayCli(CLI::App& app, const ClientTlsOptions* tls = nullptr);
  GatewayCli(const GatewayCli&) = delete;
  GatewayCli& operator=(const GatewayCli&) = delete;

  // The command line chose `gateway`.
  bool parsed() const { return gateway_->parsed(); }
  // Runs the chosen command; returns the exit status.
  int Run(std::ostream& out, std::ostream& err) const;

 private:
  CLI::App* gateway_;
  CLI::App* set_cluster_;
  CLI::App* update_endpoint_;
  CLI::App* delete_endpoint_;
  CLI::App* add_vpc_;
  CLI::App* add_endpoints_;
  CLI::App* paths_;
  CLI::App* delete_vpc_;
  CLI::App* complete_load_;
  CLI::App* set_offload_;
  CLI::App* delete_network_;
  CLI::App* stats_;
  CLI::App* endpoints_;
  CLI::App* hosts_;
  CLI::App* health_;

  const ClientTlsOptions* tls_;
  GatewayCtlOptions options_;
  std::string file_;
  std::string key_;
  std::string vpc_;
  std::string offload_mode_ = "first-packet";
  uint64_t offload_packets_ = 0;
  uint64_t offload_bytes_ = 0;
  uint32_t offload_window_ms_ = 0;
  std::string network_;
  std::string host_;
  struct EndpointArgs {  // update-endpoint.
    std::string key, vpc, network, ipv4, ipv6, mac, host, iface_id;
  };
  EndpointArgs endpoint_;
  std::string service_;  // health.
};

}  // namespace shortcut::ctl
