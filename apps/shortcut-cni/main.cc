// shortcut-cni: a CNI 1.0 plugin that puts containers on Shortcut VPCs.
// Runtimes call it with CNI_* environment variables and the network
// configuration on stdin (src/cni/request.h lists its fields); it answers
// on stdout. Everything else lives in src/cni so that tests can run it.
//
// `shortcut-cni --help` (or no CNI_COMMAND) prints the usage.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "src/cni/manager_api.h"
#include "src/cni/run.h"
#include "src/cni/system_ops.h"

extern char** environ;

namespace {

constexpr char kUsage[] = R"(shortcut-cni: CNI 1.0 plugin putting containers on Shortcut VPCs.

Usage: CNI_COMMAND=... shortcut-cni < CONFIG   (as a runtime calls it)
       shortcut-cni --help | --version

Called by a container runtime, not by hand: CNI_COMMAND (ADD, DEL, CHECK,
VERSION), CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS (IP=a.b.c.d for
a static address) in the environment, the network configuration on stdin:

  {"cniVersion": "1.0.0", "name": "blue", "type": "shortcut-cni",
   "manager": "unix:/run/shortcut/managerd.sock",   managerd(s), comma-separated
   "vpc": "blue", "network": "web",                 the VPC and network to join
   "host": "host1",                    this host's name in managerd (default: hostname)
   "bridge": "br-int", "ovsdb": "unix:/var/run/openvswitch/db.sock",
   "mtu": 1400, "online_timeout_ms": 10000, "tx_checksum_offload": true}

ADD creates the endpoint in managerd (address allocated from the network
unless given), a veth into the container's namespace, plugs its host end
into the bridge with external_ids:iface-id, waits until the endpoint is
online and prints the CNI result. DEL undoes it (idempotent). CHECK
verifies it. Errors: CNI's error object on stdout, exit status 1.
)";

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq != nullptr && std::strncmp(*e, "CNI_", 4) == 0) {
      env[std::string(*e, static_cast<size_t>(eq - *e))] = std::string(eq + 1);
    }
  }
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "shortcut-cni " SHORTCUT_VERSION "\n";
    return 0;
  }
  if ((argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) ||
      (argc == 1 && !env.contains("CNI_COMMAND"))) {
    std::cout << kUsage;
    return argc > 1 ? 0 : 2;
  }
  std::string input;
  if (env["CNI_COMMAND"] != "VERSION") {
    input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  auto make = [](const shortcut::cni::NetConf& conf) {
    shortcut::cni::Backends b;
    b.links = std::make_unique<shortcut::cni::SystemLinks>();
    b.sw = std::make_unique<shortcut::cni::OvsVsctlSwitch>(conf.ovsdb);
    b.manager = std::make_unique<shortcut::cni::GrpcManager>(conf.manager, 10.0, conf.tls);
    return b;
  };
  return shortcut::cni::RunCni(env, input, hostname, make, std::cout);
}
