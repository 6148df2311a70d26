// The metric names docs/grafana/shortcut.json queries, so that tests can
// check each against what a daemon exports (a renamed metric breaks the
// dashboard silently otherwise).
//
// Thread-safety: a pure function of the file.
#pragma once

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace shortcut::testing {

// Names starting with `prefix` in the dashboard at `path`, histogram
// series (_bucket, _sum, _count) reduced to their family.
inline std::set<std::string> DashboardMetricNames(const std::string& path,
                                                  const std::string& prefix) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  std::set<std::string> out;
  std::regex name(prefix + "[a-z0-9_]*");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), name); it != std::sregex_iterator();
       ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (n.ends_with(suffix)) n.resize(n.size() - std::string(suffix).size());
    }
    out.insert(n);
  }
  return out;
}

}  // namespace shortcut::testing
