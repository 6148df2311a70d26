// A private ovsdb-server for the OVSDB client tests: one database created
// from a schema with `ovsdb-tool create` in a temp dir, served on a Unix
// socket there, stopped by the pid in its pidfile.
//
// A test binary that crashed leaves its server running; each new server
// first stops those whose owner.pid names a dead process and removes their
// directories.
//
// Thread-safety: none; one server belongs to one test.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "tests/support/temp_dir.h"

namespace shortcut::testing {

class OvsdbServer {
 public:
  OvsdbServer();
  ~OvsdbServer() { Stop(); }
  OvsdbServer(const OvsdbServer&) = delete;
  OvsdbServer& operator=(const OvsdbServer&) = delete;

  // `schema`: the JSON text of an OVSDB schema.
  absl::Status Start(const std::string& schema);
  // Stops the server; the database file stays, for Resume().
  void Stop();
  // Starts the server again on the database as Stop() left it.
  absl::Status Resume();
  // `ovsdb-tool transact` on the file while the server is stopped: changes
  // that a client can only learn of after it reconnects.
  absl::Status OfflineTransact(const std::string& transaction);

  std::string target() const { return "unix:" + dir_.File("db.sock"); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};

}  // namespace shortcut::testing
