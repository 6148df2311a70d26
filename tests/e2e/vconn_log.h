// What an ovs-vswitchd logged as received OpenFlow messages once its vconn
// module logs at debug level to its file (`vlog/set vconn:file:dbg`): the
// switch's own record, an oracle for "this host was sent nothing".
//
// Thread-safety: plain values and a pure function.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace shortcut::testing {

// Per message, its text after "received: ", with the lines that follow it
// in the log (a bundle control's type, a bundle add's inner message).
struct Received {
  std::vector<std::string> messages;
  std::string text;      // The whole log segment.
  bool dropped = false;  // The log's rate limit dropped some messages.
  // Messages whose text names `what` anywhere.
  size_t Count(const std::string& what) const {
    size_t n = 0;
    for (const std::string& m : messages) n += absl::StrContains(m, what);
    return n;
  }
  // Messages that change the switch: flow_mods, group_mods, bundles (by
  // their type, on their first line).
  size_t Changes() const {
    size_t n = 0;
    for (const std::string& m : messages) {
      std::string type = m.substr(0, m.find('\n'));
      n += absl::StrContains(type, "FLOW_MOD") || absl::StrContains(type, "GROUP_MOD") ||
           absl::StrContains(type, "BUNDLE");
    }
    return n;
  }
};

// A log record starts with its timestamp, "2026-01-02T03:04:05.678Z|...".
inline bool StartsRecord(absl::string_view line) {
  return line.size() > 11 && absl::ascii_isdigit(line[0]) && line[4] == '-' && line[10] == 'T';
}

// The received messages of a segment of ovs-vswitchd.log.
inline Received ParseReceived(const std::string& segment) {
  Received r;
  r.text = segment;
  r.dropped = absl::StrContains(segment, "due to excessive rate");
  bool in_message = false;
  for (absl::string_view line : absl::StrSplit(segment, '\n')) {
    if (StartsRecord(line)) {
      size_t at = line.find("received: ");
      in_message = absl::StrContains(line, "|vconn|DBG|") && at != absl::string_view::npos;
      if (in_message) r.messages.emplace_back(line.substr(at + 10));
    } else if (in_message) {
      absl::StrAppend(&r.messages.back(), "\n", line);
    }
  }
  return r;
}

}  // namespace shortcut::testing
