#include "src/cni/run.h"

#include "src/cni/result.h"

namespace shortcut::cni {

int RunCni(const std::map<std::string, std::string>& env, std::string_view stdin_text,
           const std::string& hostname, const BackendFactory& make, std::ostream& out) {
  auto parsed = ParseRequest(env, stdin_text, hostname);
  if (auto* error = std::get_if<Error>(&parsed)) {
    out << ErrorJson(*error, "").dump() << "\n";
    return 1;
  }
  const CniRequest& req = std::get<CniRequest>(parsed);
  if (req.command == Command::kVersion) {
    out << VersionJson().dump() << "\n";
    return 0;
  }
  Backends b = make(req.conf);
  Plugin plugin(b.links.get(), b.sw.get(), b.manager.get());
  std::optional<Error> error;
  switch (req.command) {
    case Command::kAdd: {
      auto added = plugin.Add(req);
      if (auto* a = std::get_if<Attachment>(&added)) {
        out << ResultJson(*a, req.conf.cni_version).dump() << "\n";
        return 0;
      }
      error = std::get<Error>(added);
      break;
    }
    case Command::kDel:
      error = plugin.Del(req);
      break;
    case Command::kCheck:
      error = plugin.Check(req);
      break;
    case Command::kVersion:
      break;
  }
  if (!error) return 0;
  out << ErrorJson(*error, req.conf.cni_version).dump() << "\n";
  return 1;
}

}  // namespace shortcut::cni
