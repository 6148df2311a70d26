// shortcut-cni's input: the CNI 1.0 runtime's environment variables and the
// network configuration on stdin, parsed and checked into a CniRequest
// (https://www.cni.dev/docs/spec/, sections "Parameters" and "Network
// configuration").
//
// Network configuration (besides cniVersion, name, type):
//   manager               required; managerd address(es), comma-separated
//                         (unix:/abs/path or HOST:PORT), as shortcutctl
//   vpc, network          required; the Shortcut VPC and network to join
//   host                  the host's name as registered in managerd
//                         (default: this machine's hostname)
//   bridge                default br-int
//   ovsdb                 the host's Open vSwitch database (ovs-vsctl --db;
//                         default: Open vSwitch's own default)
//   mtu                   the container interface's MTU (default: 1500, unset)
//   online_timeout_ms     how long ADD waits for the endpoint to be online
//                         (default 10000)
//   tx_checksum_offload   false: turned off on the container's interface,
//                         as Open vSwitch's userspace datapath needs with
//                         veth (default true: left as it is)
//   tls_cert, tls_key,    PEM files: mutual TLS toward managerd (all three,
//   tls_ca                or none: insecure); read and checked when parsed
//                         (an unreadable one is code 7)
//   tls_server_name       the name managerd's certificate must carry
//                         (default: gRPC's, see src/tls/tls.h)
// A static address: CNI_ARGS "IP=a.b.c.d" or runtimeConfig.ips (the `ips`
// capability); otherwise managerd allocates one. Unknown fields are
// ignored, as the specification asks.
//
// Errors carry the CNI error code to report (Error below).
//
// Thread-safety: pure functions (reading the TLS files aside) and plain
// values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/tls/tls.h"

namespace shortcut::cni {

// CNI's well-known error codes (specification, "Error").
enum class ErrorCode : uint32_t {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  // Shortcut's own (100 and up).
  kManagerRefused = 100,  // managerd answered an error other than "try again".
  kSwitchFailure = 101,   // ovs-vsctl failed.
  kLinkFailure = 102,     // iproute2 failed.
  kNotAsExpected = 103,   // CHECK found the attachment different.
};

struct Error {
  ErrorCode code;
  std::string msg;
  std::string details;
};

enum class Command { kAdd, kDel, kCheck, kVersion };

struct NetConf {
  std::string cni_version;
  std::string name;
  std::string manager;
  std::string vpc;
  std::string network;
  std::string host;
  std::string bridge = "br-int";
  std::string ovsdb;
  uint32_t mtu = 0;
  uint32_t online_timeout_ms = 10000;
  bool tx_checksum_offload = true;
  std::optional<tls::GrpcTls> tls;            // Nullopt: insecure gRPC.
  std::string static_ipv4;                    // Empty: allocated by managerd.
  std::optional<nlohmann::json> prev_result;  // CHECK and DEL.
};

struct CniRequest {
  Command command = Command::kVersion;
  std::string container_id;
  std::string netns;  // May be empty on DEL.
  std::string ifname;
  NetConf conf;  // Empty for VERSION.
};

inline constexpr std::string_view kCniVersion = "1.0.0";
// What this plugin speaks (VERSION's supportedVersions).
const std::vector<std::string>& SupportedVersions();

// `env` holds the CNI_* variables; `stdin_text` the configuration.
// `hostname` is the default of `host`.
std::variant<CniRequest, Error> ParseRequest(const std::map<std::string, std::string>& env,
                                             std::string_view stdin_text,
                                             const std::string& hostname);

// The attachment's names, derived so that DEL and CHECK find what ADD made
// without keeping state: the endpoint key (also the port's
// external_ids:iface-id) "cni:NETWORK:CONTAINERID:IFNAME", and the host end
// of the veth "sc" + 12 hex digits of the key's FNV-1a 64-bit hash (an
// interface name has at most 15 characters).
std::string EndpointKey(const CniRequest& request);
std::string HostIfname(const std::string& endpoint_key);

}  // namespace shortcut::cni
