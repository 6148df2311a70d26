#include "src/host/iface_watch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace shortcut::host {
namespace {

std::string OfportText(const std::optional<int64_t>& ofport) {
  return ofport ? std::to_string(*ofport) : "-";
}

}  // namespace

std::vector<IfaceEvent> IfaceTracker::Update(const ovsdb::VsSnapshot& db) {
  std::map<std::string, IfaceEvent> now;
  for (const auto& [uuid, bridge] : db.InterfaceBridges()) {
    if (!bridge_.empty() && bridge != bridge_) continue;
    const ovsdb::VsInterface& i = db.interfaces.at(uuid);
    if (i.iface_id().empty()) continue;
    IfaceEvent e;
    e.iface_id = i.iface_id();
    e.interface = i.name;
    e.bridge = bridge;
    // ovs-vswitchd writes -1 when it could not add the port: no ofport.
    if (i.ofport && *i.ofport > 0) e.ofport = i.ofport;
    e.mac = i.mac();
    now.emplace(uuid, std::move(e));
  }
  std::vector<IfaceEvent> events;
  for (const auto& [uuid, old] : known_) {
    if (now.contains(uuid)) continue;
    IfaceEvent e = old;
    e.kind = IfaceEvent::Kind::kDelete;
    events.push_back(std::move(e));
  }
  for (const auto& [uuid, cur] : now) {
    auto it = known_.find(uuid);
    IfaceEvent e = cur;
    if (it == known_.end()) {
      e.kind = IfaceEvent::Kind::kAdd;
    } else if (it->second.iface_id != cur.iface_id || it->second.mac != cur.mac ||
               it->second.interface != cur.interface || it->second.bridge != cur.bridge) {
      e.kind = IfaceEvent::Kind::kUpdate;
    } else if (it->second.ofport != cur.ofport) {
      e.kind = IfaceEvent::Kind::kOfport;
      e.old_ofport = it->second.ofport;
    } else {
      continue;
    }
    events.push_back(std::move(e));
  }
  known_ = std::move(now);
  return events;
}

std::map<std::string, int64_t> IfaceTracker::Bindings() const {
  std::map<std::string, int64_t> out;
  for (const auto& [uuid, e] : known_) {
    if (!e.ofport) continue;
    auto [it, inserted] = out.emplace(e.iface_id, *e.ofport);
    if (!inserted) it->second = std::min(it->second, *e.ofport);
  }
  return out;
}

std::string_view IfaceEventKindName(IfaceEvent::Kind kind) {
  switch (kind) {
    case IfaceEvent::Kind::kAdd:
      return "add";
    case IfaceEvent::Kind::kOfport:
      return "ofport";
    case IfaceEvent::Kind::kUpdate:
      return "update";
    case IfaceEvent::Kind::kDelete:
      return "del";
  }
  return "?";
}

std::string FormatIfaceEvent(const IfaceEvent& e) {
  std::string out = absl::StrCat(std::string(IfaceEventKindName(e.kind)), " iface-id=", e.iface_id,
                                 " interface=", e.interface, " bridge=", e.bridge,
                                 " ofport=", OfportText(e.ofport));
  if (e.kind == IfaceEvent::Kind::kOfport) absl::StrAppend(&out, " was=", OfportText(e.old_ofport));
  absl::StrAppend(&out, " mac=", e.mac.empty() ? "-" : e.mac);
  return out;
}

ovsdb::Json IfaceEventJson(const IfaceEvent& e) {
  ovsdb::Json out = {{"event", std::string(IfaceEventKindName(e.kind))},
                     {"iface_id", e.iface_id},
                     {"interface", e.interface},
                     {"bridge", e.bridge},
                     {"ofport", e.ofport ? ovsdb::Json(*e.ofport) : ovsdb::Json()},
                     {"mac", e.mac}};
  if (e.kind == IfaceEvent::Kind::kOfport) {
    out["old_ofport"] = e.old_ofport ? ovsdb::Json(*e.old_ofport) : ovsdb::Json();
  }
  return out;
}

}  // namespace shortcut::host
