// A throwaway PKI for tests, made with the openssl command: a CA and
// certificates it signs, each with CN and subjectAltName DNS:NAME (as
// `ovs-pki -u req+sign NAME` makes them). Files live in the given dir:
// ca-cert.pem, ca-key.pem, NAME-cert.pem, NAME-key.pem.
#pragma once

#include <string>

#include "tests/support/subprocess.h"

namespace shortcut::testing {

class TestPki {
 public:
  // Makes the CA in `dir` (which must exist); ok() says whether it worked.
  explicit TestPki(std::string dir, std::string ca_name = "test-ca") : dir_(std::move(dir)) {
    RunResult r = Shell("cd '" + dir_ +
                        "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                        "-nodes -keyout ca-key.pem -out ca-cert.pem -days 2 -subj '/CN=" +
                        ca_name + "' 2>&1");
    ok_ = r.ok();
    error_ = r.out + r.err;
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string ca() const { return dir_ + "/ca-cert.pem"; }
  std::string cert(const std::string& name) const { return dir_ + "/" + name + "-cert.pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + "-key.pem"; }

  // A key and a certificate for NAME signed by the CA; false on failure.
  bool Issue(const std::string& name) {
    RunResult r = Shell(
        "cd '" + dir_ + "' && printf 'subjectAltName=DNS:" + name + "\\n' > " + name +
        ".ext && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + "-key.pem -out " + name + "-req.pem -subj '/CN=" + name +
        "' && openssl x509 -req -in " + name +
        "-req.pem -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 2 -out " + name +
        "-cert.pem -extfile " + name + ".ext 2>&1");
    error_ = r.out + r.err;
    return r.ok();
  }

 private:
  std::string dir_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace shortcut::testing
