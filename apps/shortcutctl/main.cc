// shortcutctl: the operator's command line. Parsing only; the commands live
// in src/ctl so that tests can call them.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "CLI/CLI.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "src/ctl/gateway_cmd.h"
#include "src/ctl/host_cmd.h"
#include "src/ctl/manager_cmd.h"
#include "src/ctl/switch_cmd.h"

namespace {

int Fail(const absl::Status& status) {
  std::cerr << "shortcutctl: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError("cannot open " + path);
  ss << f.rdbuf();
  return ss.str();
}

// A sync of a large table builds hundreds of MB of small objects. With
// transparent huge pages for malloc's heap the same sync takes about a third
// less time and half the CPU (BENCHMARKS.md), but glibc reads that setting
// only at start-up, from GLIBC_TUNABLES: so shortcutctl re-executes itself
// once with it, unless the caller chose its own tunables.
void EnableHugePagesForMalloc(int argc, char** argv) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  // Only `switch` commands handle large tables; the others are small and
  // quick, and an exec would only add to their latency.
  bool is_switch = false;
  for (int i = 1; i < argc; ++i) is_switch |= std::string_view(argv[i]) == "switch";
  if (!is_switch) return;
  if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");  // exec failed: carry on without.
}

}  // namespace

int main(int argc, char** argv) {
  EnableHugePagesForMalloc(argc, argv);
  CLI::App app{"shortcutctl: operate Shortcut and the switches it programs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "shortcutctl " SHORTCUT_VERSION);
  app.footer("See shortcutctl(1).");
  int verbose = 0;
  app.add_flag("-v,--verbose", verbose, "log connection events (-vv: debug)");

  auto* sw = app.add_subcommand("switch", "Low-level work on one OpenFlow switch");
  sw->require_subcommand(1);

  shortcut::ctl::SwitchOptions opts;
  std::string cookie;
  std::string file;

  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("TARGET", opts.target, "unix:/abs/path/br.mgmt or tcp:IP:PORT")->required();
    cmd->add_option("--cookie", cookie,
                    "VALUE/MASK: only flows whose cookie matches are managed (default: all)");
    cmd->add_option("--timeout", opts.timeout_ms,
                    "milliseconds to wait for the switch at each step (default 10000)");
  };

  auto* sync = sw->add_subcommand(
      "sync", "Make the switch hold exactly FILE's flows, groups and meters, atomically");
  add_common(sync);
  sync->add_option("FILE", file, "state file, or - for standard input")->required();
  sync->add_flag("--dry-run", opts.dry_run, "compute and print the change, send nothing");

  auto* dump = sw->add_subcommand("dump", "Print the switch's flows, groups and meters as a FILE");
  add_common(dump);

  auto* host = app.add_subcommand("host", "Prepare and inspect a host's Open vSwitch (OVSDB)");
  host->require_subcommand(1);
  shortcut::ctl::HostOptions host_opts;
  shortcut::host::HostInitParams init_params;
  shortcut::ctl::WatchLimits watch_limits;
  auto add_host_common = [&](CLI::App* cmd, bool db_required = true) {
    auto* db = cmd->add_option("--db", host_opts.db,
                               "OVSDB server: unix:/abs/path/db.sock or tcp:IP[:PORT]");
    if (db_required) db->required();
    cmd->add_option("--bridge", host_opts.bridge, "integration bridge (default br-int)");
    cmd->add_option("--timeout", host_opts.timeout_ms,
                    "milliseconds to wait for the database at each step (default 10000)");
  };
  auto* host_init = host->add_subcommand(
      "init", "Create or update the integration bridge, tunnel port and listener, atomically");
  add_host_common(host_init);
  host_init->add_option("--tunnel-ip", init_params.tunnel_ip, "this host's underlay IPv4 address")
      ->required();
  host_init->add_option("--tunnel-type", init_params.tunnel_type, "vxlan (default) or geneve");
  host_init->add_option("--listen", init_params.listen,
                        "passive OpenFlow listener ptcp:PORT[:IP] or pssl:PORT[:IP] (default "
                        "ptcp:6653; '' for none)");
  host_init->add_option("--datapath-type", init_params.datapath_type,
                        "netdev (userspace, default) or system");
  host_init->add_flag("!--no-wait", host_opts.wait,
                      "do not wait for ovs-vswitchd to apply the change");
  auto* host_show = host->add_subcommand(
      "show",
      "Print the bridge, tunnel, listener and VM ports (--db), or the manager's record (NAME)");
  add_host_common(host_show, /*db_required=*/false);
  host_show->add_flag("--json", host_opts.json, "print JSON");
  auto* host_watch =
      host->add_subcommand("watch", "Stream VM interface appearances, ofport changes and removals");
  add_host_common(host_watch);
  host_watch->add_flag("--json", host_opts.json, "one JSON object per line");
  host_watch->add_option("--count", watch_limits.max_events, "exit after this many events");
  host_watch->add_option("--duration", watch_limits.duration_ms,
                         "exit after this many milliseconds");
  auto* host_reset =
      host->add_subcommand("reset", "Remove what host init created, and nothing else");
  add_host_common(host_reset);
  host_reset->add_flag("!--no-wait", host_opts.wait,
                       "do not wait for ovs-vswitchd to apply the change");

  shortcut::ctl::ClientTlsOptions tls_opts;
  shortcut::ctl::AddClientTlsOptions(app, tls_opts);
  shortcut::ctl::GatewayCli gateway(app, &tls_opts);
  // The management plane's commands (host register|unregister|list|show NAME,
  // gw, cluster, vpc, network, endpoint).
  shortcut::ctl::ManagerCli manager(app, host, host_show, &tls_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a success; any usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Output is for scripts: logs go to stderr, and only warnings unless asked.
  auto logger = spdlog::stderr_logger_st("shortcutctl");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose >= 2   ? spdlog::level::debug
                    : verbose == 1 ? spdlog::level::info
                                   : spdlog::level::warn);

  if (gateway.parsed()) return gateway.Run(std::cout, std::cerr);
  if (manager.parsed()) return manager.Run(std::cout, std::cerr);
  if (host_show->parsed() && host_opts.db.empty()) {
    std::cerr << "shortcutctl: host show: give NAME (the manager's record) or --db (the host's "
                 "Open vSwitch)\n";
    return 2;
  }

  if (!cookie.empty()) {
    auto cm = shortcut::ctl::ParseCookieMask(cookie);
    if (!cm.ok()) return Fail(cm.status());
    opts.cookie = cm->first;
    opts.cookie_mask = cm->second;
  }

  std::string output;
  absl::Status status;
  if (sync->parsed()) {
    auto text = ReadInput(file);
    if (!text.ok()) return Fail(text.status());
    status = shortcut::ctl::RunSwitchSync(opts, *text, file == "-" ? "<stdin>" : file, &output);
  } else if (dump->parsed()) {
    status = shortcut::ctl::RunSwitchDump(opts, &output);
  } else if (host_init->parsed()) {
    init_params.bridge = host_opts.bridge;
    status = shortcut::ctl::RunHostInit(host_opts, init_params, &output);
  } else if (host_show->parsed()) {
    status = shortcut::ctl::RunHostShow(host_opts, &output);
  } else if (host_reset->parsed()) {
    status = shortcut::ctl::RunHostReset(host_opts, &output);
  } else if (host_watch->parsed()) {
    status = shortcut::ctl::RunHostWatch(host_opts, watch_limits, [](const std::string& line) {
      std::cout << line << std::endl;  // Flushed: a reader acts on each event as it comes.
      return true;
    });
  }
  std::cout << output << std::flush;
  if (!status.ok()) return Fail(status);
  return 0;
}
