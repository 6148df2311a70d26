// Tracks the VM interfaces of a host's Open vSwitch, the way gateways bind
// endpoints to ports (the OVN/Nova convention: an Interface whose
// external_ids:iface-id names the endpoint). Each Update() compares a new
// database snapshot with the previous one and returns what happened to
// those interfaces: appeared, got or changed its ofport, changed iface-id or
// MAC, disappeared. Pure: the caller feeds snapshots (from a ReplicaSession).
//
// Thread-safety: none; a tracker belongs to its owner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/ovsdb/jsonrpc.h"
#include "src/ovsdb/vswitch.h"

namespace shortcut::host {

struct IfaceEvent {
  enum class Kind { kAdd, kOfport, kUpdate, kDelete };
  Kind kind = Kind::kAdd;
  std::string iface_id;
  std::string interface;
  std::string bridge;
  std::optional<int64_t> ofport;      // Absent: not assigned (yet).
  std::optional<int64_t> old_ofport;  // kOfport only.
  std::string mac;
};

class IfaceTracker {
 public:
  // `bridge` empty: interfaces of every bridge.
  explicit IfaceTracker(std::string bridge) : bridge_(std::move(bridge)) {}

  std::vector<IfaceEvent> Update(const ovsdb::VsSnapshot& db);
  size_t size() const { return known_.size(); }

  // iface-id → ofport as of the last Update(), for the interfaces that have
  // a valid one: the port a gateway binds the endpoint to. Two interfaces
  // claiming one iface-id (a VM being replaced) bind to the lower ofport,
  // so the answer does not depend on the order rows arrived in.
  std::map<std::string, int64_t> Bindings() const;

 private:
  std::string bridge_;
  std::map<std::string, IfaceEvent> known_;  // Interface uuid → last state.
};

std::string_view IfaceEventKindName(IfaceEvent::Kind kind);
// "add iface-id=vm1 interface=vm1-p bridge=br-int ofport=3 mac=02:..".
std::string FormatIfaceEvent(const IfaceEvent& event);
ovsdb::Json IfaceEventJson(const IfaceEvent& event);

}  // namespace shortcut::host
