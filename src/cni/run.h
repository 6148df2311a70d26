// One invocation of shortcut-cni: parse the environment and stdin, run the
// command, write its JSON (result, version or error) to `out`, and return
// the process's exit status: 0, or 1 with CNI's error object on `out`
// (the specification's "Error" section: stdout, non-zero exit).
//
// Thread-safety: none; one call per process.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "src/cni/plugin.h"
#include "src/cni/request.h"

namespace shortcut::cni {

struct Backends {
  std::unique_ptr<Links> links;
  std::unique_ptr<Switch> sw;
  std::unique_ptr<Manager> manager;
};
using BackendFactory = std::function<Backends(const NetConf&)>;

int RunCni(const std::map<std::string, std::string>& env, std::string_view stdin_text,
           const std::string& hostname, const BackendFactory& make, std::ostream& out);

}  // namespace shortcut::cni
