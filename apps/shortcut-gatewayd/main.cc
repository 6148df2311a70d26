// shortcut-gatewayd: a gateway node. Parsing and logging only; the daemon
// lives in src/gateway (config.h, daemon.h) so that tests can run it.
//
// Exit status: 0 after a clean shutdown (SIGTERM, SIGINT), 1 when it could
// not run (cannot listen, cluster refused), 2 for a bad command line or
// configuration file.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "src/gateway/config.h"
#include "src/gateway/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"shortcut-gatewayd: a Shortcut gateway node (gRPC API, host programming)"};
  app.set_version_flag("--version", "shortcut-gatewayd " SHORTCUT_VERSION);
  app.footer(
      "Serves until SIGTERM or SIGINT (exit 0). Exit status 1: could not run; 2: bad\n"
      "command line or configuration. The packaged service reads\n"
      "/etc/shortcut/gatewayd.json. See shortcut-gatewayd(8).");
  std::string config_path;
  app.add_option("--config", config_path,
                 "JSON file: listen, bridge (the gateway's own Open vSwitch), cluster, "
                 "direct_idle_timeout, metrics, log_level, tls, ssl")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto config = shortcut::gateway::LoadDaemonConfig(config_path);
  if (!config.ok()) {
    std::cerr << "shortcut-gatewayd: " << config.status().message() << "\n";
    return 2;
  }
  // gRPC threads log too: the multi-threaded sink.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("gatewayd"));
  spdlog::set_level(config->log_level);

  shortcut::gateway::Daemon daemon(std::move(*config));
  absl::Status status = daemon.Run();
  if (!status.ok()) {
    std::cerr << "shortcut-gatewayd: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
