#include "tests/fakes/fake_switch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "src/openflow/codec.h"
#include "src/openflow/errors.h"

namespace shortcut::fakes {

// ---- Errors ----

namespace {

constexpr uint16_t kExperimenterErrorType = 0xffff;
// OpenFlow 1.3 error types and codes used here.
constexpr uint16_t kBadRequest = 1;
constexpr uint16_t kBadRequestBadType = 1;
constexpr uint16_t kBadRequestBadLen = 6;
constexpr uint16_t kBadAction = 2;
constexpr uint16_t kBadActionBadOutGroup = 9;
constexpr uint16_t kFlowModFailed = 5;
constexpr uint16_t kFlowModBadTableId = 2;
constexpr uint16_t kFlowModBadCommand = 6;
constexpr uint16_t kGroupModFailed = 6;
constexpr uint16_t kGroupExists = 0;
constexpr uint16_t kUnknownGroup = 8;
constexpr uint16_t kGroupBadCommand = 11;
constexpr uint16_t kMeterModFailed = 12;
constexpr uint16_t kMeterExists = 1;
constexpr uint16_t kInvalidMeter = 2;
constexpr uint16_t kUnknownMeter = 3;
constexpr uint16_t kMeterBadCommand = 4;
// ONF bundle errors (EXT-230 on OpenFlow 1.3, as OVS numbers them).
constexpr uint16_t kBundleBadId = 2302;
constexpr uint16_t kBundleClosed = 2304;
constexpr uint16_t kBundleBadFlags = 2307;
constexpr uint16_t kBundleMsgUnsup = 2310;
constexpr uint16_t kBundleMsgFailed = 2313;

of::Error OnfError(uint16_t code) {
  return of::Error{kExperimenterErrorType, code, of::kOnfExperimenter, {}};
}

}  // namespace

of::Error OfError(uint16_t type, uint16_t code) { return of::Error{type, code, 0, {}}; }
of::Error BadOutPortError() { return OfError(kBadAction, 4); }
of::Error GroupExistsError() { return OfError(kGroupModFailed, kGroupExists); }
of::Error BundleMsgFailedError() { return OnfError(kBundleMsgFailed); }

// ---- Tables ----

namespace {

struct Key {
  uint8_t table = 0;
  uint16_t priority = 0;
  of::Match match;
  friend bool operator==(const Key&, const Key&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Key& k) {
    return H::combine(std::move(h), k.table, k.priority, k.match);
  }
};

struct Flow {
  uint64_t cookie = 0;
  uint16_t idle_timeout = 0;
  uint16_t hard_timeout = 0;
  uint16_t flags = 0;
  of::Instructions instructions;
  uint64_t seq = 0;      // Insertion order, for stable listings.
  uint64_t packets = 0;  // Counters: AddTraffic(); kept when an ADD replaces the flow.
  uint64_t bytes = 0;
};

struct FlowUndo {
  Key key;
  std::optional<Flow> old;
};
struct GroupUndo {
  uint32_t id;
  std::optional<of::GroupDesc> old;
};
using UndoLog = std::vector<std::variant<FlowUndo, GroupUndo>>;

// Does `req` (a non-strict match) select a flow matching `flow`? Every field
// of the request must be in the flow with a mask at least as specific and a
// value agreeing under the request's mask.
bool Covers(const of::Match& req, const of::Match& flow) {
  for (const of::FieldMatch& r : req.fields()) {
    const of::FieldMatch* f = flow.Find(r.field);
    if (f == nullptr) return false;
    const size_t width = of::GetFieldInfo(r.field).width;
    for (size_t i = 0; i < width; ++i) {
      const uint8_t rm = r.masked ? r.mask[i] : 0xff;
      const uint8_t fm = f->masked ? f->mask[i] : 0xff;
      if ((fm & rm) != rm) return false;
      if ((f->value[i] & rm) != (r.value[i] & rm)) return false;
    }
  }
  return true;
}

bool CookieMatches(uint64_t flow_cookie, uint64_t cookie, uint64_t mask) {
  return (flow_cookie & mask) == (cookie & mask);
}

bool UsesGroup(const of::Instructions& ins, uint32_t group) {
  auto in = [group](const of::ActionList& list) {
    for (const of::Action& a : list) {
      if (const auto* g = std::get_if<of::ActionGroup>(&a)) {
        if (group == of::kGroupAll || g->group_id == group) return true;
      }
    }
    return false;
  };
  return in(ins.apply_actions) || (ins.write_actions && in(*ins.write_actions));
}

}  // namespace

// ---- Implementation ----

struct Session;

struct FakeSwitch::Impl : std::enable_shared_from_this<FakeSwitch::Impl> {
  using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

  Impl(asio::any_io_executor ex, Options o) : ex(std::move(ex)), options(o), acceptor(this->ex) {}

  asio::any_io_executor ex;
  Options options;
  Acceptor acceptor;
  std::string unix_path;
  std::vector<std::shared_ptr<Session>> sessions;
  Counters counters;

  absl::flat_hash_map<Key, Flow> flows;
  absl::btree_map<uint32_t, of::GroupDesc> groups;
  absl::btree_map<uint32_t, of::MeterConfig> meters;
  uint64_t next_seq = 0;

  uint64_t flow_mods_seen = 0;  // Not reset by ResetCounters().
  uint64_t reject_at_seq = 0;   // 0: no injection.
  of::Error reject_error;
  RejectAt reject_at = RejectAt::kApply;

  // Returns the injected error if this flow_mod is the one to reject.
  std::optional<of::Error> CountFlowMod(RejectAt* at) {
    ++counters.flow_mods;
    ++flow_mods_seen;
    if (reject_at_seq != 0 && flow_mods_seen == reject_at_seq) {
      reject_at_seq = 0;
      *at = reject_at;
      return reject_error;
    }
    return std::nullopt;
  }

  void SetFlow(const Key& key, std::optional<Flow> value, UndoLog* undo) {
    auto it = flows.find(key);
    if (undo) {
      undo->push_back(FlowUndo{key, it == flows.end() ? std::nullopt : std::optional(it->second)});
    }
    if (value) {
      if (it == flows.end()) {
        flows.emplace(key, *std::move(value));
      } else {
        it->second = *std::move(value);
      }
    } else if (it != flows.end()) {
      flows.erase(it);
    }
  }

  void SetGroup(uint32_t id, std::optional<of::GroupDesc> value, UndoLog* undo) {
    auto it = groups.find(id);
    if (undo) {
      undo->push_back(GroupUndo{id, it == groups.end() ? std::nullopt : std::optional(it->second)});
    }
    if (value) {
      groups.insert_or_assign(id, *std::move(value));
    } else if (it != groups.end()) {
      groups.erase(it);
    }
  }

  void Revert(UndoLog& undo) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (auto* f = std::get_if<FlowUndo>(&*it)) {
        SetFlow(f->key, std::move(f->old), nullptr);
      } else {
        auto& g = std::get<GroupUndo>(*it);
        SetGroup(g.id, std::move(g.old), nullptr);
      }
    }
    undo.clear();
  }

  std::optional<of::Error> CheckInstructions(const of::Instructions& ins) const {
    auto check = [&](const of::ActionList& list) -> std::optional<of::Error> {
      for (const of::Action& a : list) {
        if (const auto* g = std::get_if<of::ActionGroup>(&a)) {
          if (!groups.contains(g->group_id)) return OfError(kBadAction, kBadActionBadOutGroup);
        }
      }
      return std::nullopt;
    };
    if (auto e = check(ins.apply_actions)) return e;
    if (ins.write_actions) {
      if (auto e = check(*ins.write_actions)) return e;
    }
    if (ins.meter && !meters.contains(*ins.meter)) return OfError(kMeterModFailed, kInvalidMeter);
    return std::nullopt;
  }

  std::optional<of::Error> DoFlowMod(const of::FlowMod& mod, UndoLog* undo) {
    using C = of::FlowModCommand;
    const bool strict = mod.command == C::kModifyStrict || mod.command == C::kDeleteStrict;
    switch (mod.command) {
      case C::kAdd: {
        if (mod.table_id >= options.n_tables) return OfError(kFlowModFailed, kFlowModBadTableId);
        if (auto e = CheckInstructions(mod.instructions)) return e;
        Flow f{mod.cookie, mod.idle_timeout, mod.hard_timeout,
               mod.flags,  mod.instructions, next_seq++};
        Key key{mod.table_id, mod.priority, mod.match};
        if (auto old = flows.find(key); old != flows.end()) {
          f.packets = old->second.packets;  // OpenFlow 1.3 without OFPFF_RESET_COUNTS.
          f.bytes = old->second.bytes;
        }
        SetFlow(key, std::move(f), undo);
        return std::nullopt;
      }
      case C::kModify:
      case C::kModifyStrict: {
        if (auto e = CheckInstructions(mod.instructions)) return e;
        auto modify = [&](const Key& key, const Flow& old) {
          Flow f = old;  // Cookie, timeouts and flags stay (OF1.3, OVS).
          f.instructions = mod.instructions;
          SetFlow(key, std::move(f), undo);
        };
        if (strict) {
          Key key{mod.table_id, mod.priority, mod.match};
          auto it = flows.find(key);
          if (it != flows.end() && CookieMatches(it->second.cookie, mod.cookie, mod.cookie_mask)) {
            modify(key, it->second);
          }
        } else {
          std::vector<Key> hits;
          for (const auto& [key, flow] : flows) {
            if ((mod.table_id == of::kTableAll || key.table == mod.table_id) &&
                CookieMatches(flow.cookie, mod.cookie, mod.cookie_mask) &&
                Covers(mod.match, key.match)) {
              hits.push_back(key);
            }
          }
          for (const Key& key : hits) modify(key, flows.at(key));
        }
        return std::nullopt;
      }
      case C::kDelete:
      case C::kDeleteStrict: {
        if (strict) {
          Key key{mod.table_id, mod.priority, mod.match};
          auto it = flows.find(key);
          if (it != flows.end() && CookieMatches(it->second.cookie, mod.cookie, mod.cookie_mask)) {
            SetFlow(key, std::nullopt, undo);
          }
        } else {
          std::vector<Key> hits;
          for (const auto& [key, flow] : flows) {
            if ((mod.table_id == of::kTableAll || key.table == mod.table_id) &&
                CookieMatches(flow.cookie, mod.cookie, mod.cookie_mask) &&
                Covers(mod.match, key.match)) {
              hits.push_back(key);
            }
          }
          for (const Key& key : hits) SetFlow(key, std::nullopt, undo);
        }
        return std::nullopt;
      }
    }
    return OfError(kFlowModFailed, kFlowModBadCommand);
  }

  std::optional<of::Error> DoGroupMod(const of::GroupMod& mod, UndoLog* undo) {
    switch (mod.command) {
      case of::GroupModCommand::kAdd:
        if (groups.contains(mod.group_id)) return OfError(kGroupModFailed, kGroupExists);
        SetGroup(mod.group_id, of::GroupDesc{mod.type, mod.group_id, mod.buckets}, undo);
        return std::nullopt;
      case of::GroupModCommand::kModify:
        if (!groups.contains(mod.group_id)) return OfError(kGroupModFailed, kUnknownGroup);
        SetGroup(mod.group_id, of::GroupDesc{mod.type, mod.group_id, mod.buckets}, undo);
        return std::nullopt;
      case of::GroupModCommand::kDelete: {
        // Flows using a deleted group go with it.
        std::vector<Key> users;
        for (const auto& [key, flow] : flows) {
          if (UsesGroup(flow.instructions, mod.group_id)) users.push_back(key);
        }
        for (const Key& key : users) SetFlow(key, std::nullopt, undo);
        if (mod.group_id == of::kGroupAll) {
          std::vector<uint32_t> ids;
          for (const auto& [id, g] : groups) ids.push_back(id);
          for (uint32_t id : ids) SetGroup(id, std::nullopt, undo);
        } else {
          SetGroup(mod.group_id, std::nullopt, undo);  // Unknown: no-op, as in OVS.
        }
        return std::nullopt;
      }
    }
    return OfError(kGroupModFailed, kGroupBadCommand);
  }

  std::optional<of::Error> DoMeterMod(const of::MeterMod& mod) {
    switch (mod.command) {
      case of::MeterModCommand::kAdd:
        if (meters.contains(mod.meter_id)) return OfError(kMeterModFailed, kMeterExists);
        meters.emplace(mod.meter_id, of::MeterConfig{mod.flags, mod.meter_id, mod.bands});
        return std::nullopt;
      case of::MeterModCommand::kModify: {
        auto it = meters.find(mod.meter_id);
        if (it == meters.end()) return OfError(kMeterModFailed, kUnknownMeter);
        it->second = of::MeterConfig{mod.flags, mod.meter_id, mod.bands};
        return std::nullopt;
      }
      case of::MeterModCommand::kDelete: {
        auto gone = [&](uint32_t id) {
          return mod.meter_id == of::kMeterAll || id == mod.meter_id;
        };
        std::vector<Key> users;
        for (const auto& [key, flow] : flows) {
          if (flow.instructions.meter && gone(*flow.instructions.meter)) users.push_back(key);
        }
        for (const Key& key : users) flows.erase(key);
        if (mod.meter_id == of::kMeterAll) {
          meters.clear();
        } else {
          meters.erase(mod.meter_id);
        }
        return std::nullopt;
      }
    }
    return OfError(kMeterModFailed, kMeterBadCommand);
  }

  std::vector<std::pair<const Key*, const Flow*>> SortedFlows() const {
    std::vector<std::pair<const Key*, const Flow*>> v;
    v.reserve(flows.size());
    for (const auto& [key, flow] : flows) v.emplace_back(&key, &flow);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return std::make_tuple(a.first->table, -static_cast<int>(a.first->priority), a.second->seq) <
             std::make_tuple(b.first->table, -static_cast<int>(b.first->priority), b.second->seq);
    });
    return v;
  }

  static of::FlowStats Stats(const Key& key, const Flow& flow) {
    of::FlowStats s;
    s.table_id = key.table;
    s.priority = key.priority;
    s.idle_timeout = flow.idle_timeout;
    s.hard_timeout = flow.hard_timeout;
    s.flags = flow.flags;
    s.cookie = flow.cookie;
    s.match = key.match;
    s.instructions = flow.instructions;
    s.packet_count = flow.packets;
    s.byte_count = flow.bytes;
    return s;
  }

  void CloseSessions();
  asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  asio::awaitable<void> SessionLoop(std::shared_ptr<Impl> self, std::shared_ptr<Session> s);
};

// One controller connection.
struct Session {
  explicit Session(asio::generic::stream_protocol::socket sock) : sock(std::move(sock)) {}

  struct BundleMsg {
    uint32_t xid = 0;
    of::MessageBody body;
    of::Bytes raw;  // The inner message, for error data.
    std::optional<of::Error> inject;
  };
  struct Bundle {
    uint16_t flags = 0;
    bool closed = false;
    std::vector<BundleMsg> msgs;
  };

  asio::generic::stream_protocol::socket sock;
  std::vector<uint8_t> in = std::vector<uint8_t>(256 * 1024);
  size_t begin = 0;
  size_t end = 0;
  of::Bytes out;
  absl::flat_hash_map<uint32_t, Bundle> bundles;
  bool closing = false;

  void Reply(uint32_t xid, of::MessageBody body) {
    (void)of::Encode(of::Message{of::kVersion13, xid, std::move(body)}, out);
  }
};

void FakeSwitch::Impl::CloseSessions() {
  for (auto& s : sessions) {
    std::error_code ec;
    s->closing = true;
    s->sock.close(ec);
  }
  sessions.clear();
}

namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

class Handler {
 public:
  Handler(FakeSwitch::Impl& sw, Session& s) : sw_(sw), s_(s) {}

  void SendError(uint32_t xid, of::Error error, std::span<const uint8_t> offending) {
    error.data.assign(offending.begin(),
                      offending.begin() + std::min<size_t>(offending.size(), 64));
    ++sw_.counters.errors_sent;
    s_.Reply(xid, std::move(error));
  }

  void Handle(std::span<const uint8_t> frame) {
    ++sw_.counters.messages;
    absl::StatusOr<of::Message> msg = of::Decode(frame);
    if (!msg.ok()) {
      absl::StatusOr<of::Header> h = of::DecodeHeader(frame);
      const uint32_t xid = h.ok() ? h->xid : 0;
      const bool unknown = msg.status().code() == absl::StatusCode::kUnimplemented;
      SendError(xid, OfError(kBadRequest, unknown ? kBadRequestBadType : kBadRequestBadLen), frame);
      return;
    }
    const uint32_t xid = msg->xid;
    std::visit([&](auto& body) { On(xid, body, frame); }, msg->body);
  }

 private:
  void On(uint32_t, of::Hello&, std::span<const uint8_t>) {}
  void On(uint32_t xid, of::EchoRequest& m, std::span<const uint8_t>) {
    s_.Reply(xid, of::EchoReply{std::move(m.data)});
  }
  void On(uint32_t, of::EchoReply&, std::span<const uint8_t>) {}
  void On(uint32_t xid, of::FeaturesRequest&, std::span<const uint8_t>) {
    of::FeaturesReply r;
    r.datapath_id = sw_.options.datapath_id;
    r.n_tables = sw_.options.n_tables;
    r.capabilities = 0x4f;  // Flow, table, port, group stats; IP reasm.
    s_.Reply(xid, r);
  }
  void On(uint32_t xid, of::GetConfigRequest&, std::span<const uint8_t>) {
    s_.Reply(xid, of::GetConfigReply{});
  }
  void On(uint32_t, of::SetConfig&, std::span<const uint8_t>) {}
  void On(uint32_t, of::PacketOut&, std::span<const uint8_t>) {}
  void On(uint32_t xid, of::RoleRequest& m, std::span<const uint8_t>) {
    s_.Reply(xid,
             of::RoleReply{m.role == of::kRoleNoChange ? of::kRoleEqual : m.role, m.generation_id});
  }
  void On(uint32_t xid, of::BarrierRequest&, std::span<const uint8_t>) {
    ++sw_.counters.barriers;
    s_.Reply(xid, of::BarrierReply{});
  }
  void On(uint32_t xid, of::FlowMod& m, std::span<const uint8_t> frame) {
    FakeSwitch::RejectAt at;
    if (auto e = sw_.CountFlowMod(&at)) return SendError(xid, *e, frame);
    if (auto e = sw_.DoFlowMod(m, nullptr)) SendError(xid, *e, frame);
  }
  void On(uint32_t xid, of::GroupMod& m, std::span<const uint8_t> frame) {
    ++sw_.counters.group_mods;
    if (auto e = sw_.DoGroupMod(m, nullptr)) SendError(xid, *e, frame);
  }
  void On(uint32_t xid, of::MeterMod& m, std::span<const uint8_t> frame) {
    ++sw_.counters.meter_mods;
    if (auto e = sw_.DoMeterMod(m)) SendError(xid, *e, frame);
  }
  void On(uint32_t xid, of::MultipartRequest& m, std::span<const uint8_t> frame) {
    ++sw_.counters.multipart_requests;
    if (auto* r = std::get_if<of::FlowStatsRequest>(&m.body)) {
      std::vector<of::FlowStats> out;
      for (const auto& [key, flow] : sw_.SortedFlows()) {
        if ((r->table_id == of::kTableAll || key->table == r->table_id) &&
            CookieMatches(flow->cookie, r->cookie, r->cookie_mask) &&
            Covers(r->match, key->match)) {
          out.push_back(FakeSwitch::Impl::Stats(*key, *flow));
        }
      }
      return SendParts(xid, std::move(out));
    }
    if (std::holds_alternative<of::GroupDescRequest>(m.body)) {
      std::vector<of::GroupDesc> out;
      for (const auto& [id, g] : sw_.groups) out.push_back(g);
      return SendParts(xid, std::move(out));
    }
    if (auto* r = std::get_if<of::MeterConfigRequest>(&m.body)) {
      std::vector<of::MeterConfig> out;
      for (const auto& [id, mc] : sw_.meters) {
        if (r->meter_id == of::kMeterAll || r->meter_id == id) out.push_back(mc);
      }
      return SendParts(xid, std::move(out));
    }
    if (std::holds_alternative<of::PortDescRequest>(m.body)) {
      return SendParts(xid, std::vector<of::PortDesc>{});
    }
    if (std::holds_alternative<of::MeterFeaturesRequest>(m.body)) {
      of::MeterFeatures f;
      f.max_meter = 1 << 20;
      f.band_types = (1 << of::kMeterBandDrop) | (1 << of::kMeterBandDscpRemark);
      f.capabilities = of::kMeterKbps | of::kMeterPktps | of::kMeterBurst | of::kMeterStats;
      f.max_bands = 8;
      ++sw_.counters.multipart_parts;
      return s_.Reply(xid, of::MultipartReply{0, f});
    }
    if (std::holds_alternative<of::GroupFeaturesRequest>(m.body)) {
      of::GroupFeatures f;
      f.types = 0xf;
      f.max_groups = {1u << 24, 1u << 24, 1u << 24, 1u << 24};
      ++sw_.counters.multipart_parts;
      return s_.Reply(xid, of::MultipartReply{0, f});
    }
    SendError(xid, OfError(kBadRequest, 2 /* OFPBRC_BAD_MULTIPART */), frame);
  }
  void On(uint32_t xid, of::BundleControl& m, std::span<const uint8_t> frame) {
    using T = of::BundleControlType;
    auto it = s_.bundles.find(m.bundle_id);
    auto reply = [&](T type) { s_.Reply(xid, of::BundleControl{m.bundle_id, type, 0}); };
    switch (m.type) {
      case T::kOpenRequest:
        if (it != s_.bundles.end()) {
          s_.bundles.erase(it);
          return SendError(xid, OnfError(kBundleBadId), frame);
        }
        s_.bundles[m.bundle_id].flags = m.flags;
        return reply(T::kOpenReply);
      case T::kCloseRequest:
        if (it == s_.bundles.end()) return SendError(xid, OnfError(kBundleBadId), frame);
        if (it->second.flags != m.flags) {
          s_.bundles.erase(it);
          return SendError(xid, OnfError(kBundleBadFlags), frame);
        }
        it->second.closed = true;
        return reply(T::kCloseReply);
      case T::kDiscardRequest:
        if (it == s_.bundles.end()) return SendError(xid, OnfError(kBundleBadId), frame);
        s_.bundles.erase(it);
        return reply(T::kDiscardReply);
      case T::kCommitRequest: {
        if (it == s_.bundles.end()) return SendError(xid, OnfError(kBundleBadId), frame);
        Session::Bundle bundle = std::move(it->second);
        s_.bundles.erase(it);
        if (bundle.flags != m.flags) return SendError(xid, OnfError(kBundleBadFlags), frame);
        UndoLog undo;
        for (Session::BundleMsg& bm : bundle.msgs) {
          std::optional<of::Error> e = bm.inject;
          if (!e) {
            if (auto* f = std::get_if<of::FlowMod>(&bm.body)) {
              e = sw_.DoFlowMod(*f, &undo);
            } else if (auto* g = std::get_if<of::GroupMod>(&bm.body)) {
              e = sw_.DoGroupMod(*g, &undo);
            }
          }
          if (e) {
            sw_.Revert(undo);
            ++sw_.counters.bundle_failures;
            SendError(bm.xid, *e, bm.raw);
            return SendError(xid, OnfError(kBundleMsgFailed), frame);
          }
        }
        ++sw_.counters.bundle_commits;
        return reply(T::kCommitReply);
      }
      default:
        return SendError(xid, OnfError(2306 /* OFPBFC_BAD_TYPE */), frame);
    }
  }
  void On(uint32_t xid, of::BundleAdd& m, std::span<const uint8_t> frame) {
    ++sw_.counters.bundle_adds;
    absl::StatusOr<of::Message> inner = of::Decode(m.message);
    if (!inner.ok()) return SendError(xid, OfError(kBadRequest, kBadRequestBadLen), frame);
    Session::BundleMsg bm;
    bm.xid = inner->xid;
    if (std::holds_alternative<of::FlowMod>(inner->body)) {
      FakeSwitch::RejectAt at;
      bm.inject = sw_.CountFlowMod(&at);
      if (bm.inject && at == FakeSwitch::RejectAt::kBundleAdd)
        return SendError(xid, *bm.inject, frame);
    } else if (std::holds_alternative<of::GroupMod>(inner->body)) {
      ++sw_.counters.group_mods;
    } else {
      return SendError(xid, OnfError(kBundleMsgUnsup), frame);
    }
    auto it = s_.bundles.find(m.bundle_id);
    if (it == s_.bundles.end()) {
      it = s_.bundles.emplace(m.bundle_id, Session::Bundle{m.flags, false, {}}).first;
    } else if (it->second.closed) {
      s_.bundles.erase(it);
      return SendError(xid, OnfError(kBundleClosed), frame);
    } else if (it->second.flags != m.flags) {
      s_.bundles.erase(it);
      return SendError(xid, OnfError(kBundleBadFlags), frame);
    }
    bm.body = std::move(inner->body);
    bm.raw = std::move(m.message);
    it->second.msgs.push_back(std::move(bm));
  }
  // Anything else a controller has no business sending.
  template <typename T>
  void On(uint32_t xid, T&, std::span<const uint8_t> frame) {
    SendError(xid, OfError(kBadRequest, kBadRequestBadType), frame);
  }

  template <typename Entry>
  void SendParts(uint32_t xid, std::vector<Entry> entries) {
    size_t chunk = std::max<size_t>(1, sw_.options.entries_per_reply);
    size_t pos = 0;
    do {
      const size_t n = std::min(chunk, entries.size() - pos);
      const bool last = pos + n == entries.size();
      std::vector<Entry> part(std::make_move_iterator(entries.begin() + pos),
                              std::make_move_iterator(entries.begin() + pos + n));
      of::Message msg{of::kVersion13, xid,
                      of::MultipartReply{static_cast<uint16_t>(last ? 0 : of::kMultipartReplyMore),
                                         std::move(part)}};
      if (!of::Encode(msg, s_.out).ok()) {
        // Too large for one message: retry with smaller parts.
        auto& body = std::get<std::vector<Entry>>(std::get<of::MultipartReply>(msg.body).body);
        std::move(body.begin(), body.end(), entries.begin() + pos);
        if (chunk == 1) return;  // A single entry that cannot be encoded: give up.
        chunk = std::max<size_t>(1, chunk / 2);
        continue;
      }
      ++sw_.counters.multipart_parts;
      pos += n;
    } while (pos < entries.size());
  }

  FakeSwitch::Impl& sw_;
  Session& s_;
};

}  // namespace

asio::awaitable<void> FakeSwitch::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(as_tuple(use_awaitable));
    if (ec) co_return;
    std::error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);  // Fails harmlessly on unix.
    auto s = std::make_shared<Session>(std::move(sock));
    sessions.push_back(s);
    ++counters.connections;
    asio::co_spawn(ex, SessionLoop(self, s), asio::detached);
  }
}

asio::awaitable<void> FakeSwitch::Impl::SessionLoop(std::shared_ptr<Impl> self,
                                                    std::shared_ptr<Session> s) {
  (void)self;  // Keeps the tables alive while the session runs.
  s->Reply(0, of::Hello{{of::kVersion13}});
  Handler handler(*this, *s);
  for (;;) {
    if (!s->out.empty()) {
      auto [ec, n] =
          co_await asio::async_write(s->sock, asio::buffer(s->out), as_tuple(use_awaitable));
      s->out.clear();
      if (ec) break;
    }
    if (s->closing) break;
    if (s->begin == s->end) {
      s->begin = s->end = 0;
    } else if (s->in.size() - s->end < 64 * 1024) {
      std::memmove(s->in.data(), s->in.data() + s->begin, s->end - s->begin);
      s->end -= s->begin;
      s->begin = 0;
    }
    auto [ec, n] = co_await s->sock.async_read_some(
        asio::buffer(s->in.data() + s->end, s->in.size() - s->end), as_tuple(use_awaitable));
    if (ec || s->closing) break;
    s->end += n;
    while (s->end - s->begin >= of::kHeaderLen) {
      const uint8_t* p = s->in.data() + s->begin;
      const size_t len = (size_t{p[2]} << 8) | p[3];
      if (len < of::kHeaderLen) {
        s->closing = true;  // Unframeable: drop the connection as OVS does.
        break;
      }
      if (s->end - s->begin < len) break;
      handler.Handle(std::span<const uint8_t>(p, len));
      s->begin += len;
    }
  }
  std::error_code ignored;
  s->sock.close(ignored);
  std::erase(sessions, s);
}

// ---- FakeSwitch ----

FakeSwitch::FakeSwitch(asio::any_io_executor ex, Options options)
    : impl_(std::make_shared<Impl>(std::move(ex), options)) {}

FakeSwitch::~FakeSwitch() {
  std::error_code ec;
  impl_->acceptor.close(ec);
  impl_->CloseSessions();
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
}

absl::StatusOr<std::string> FakeSwitch::ListenTcp() {
  asio::ip::tcp::endpoint tcp(asio::ip::make_address_v4("127.0.0.1"), 0);
  asio::generic::stream_protocol::endpoint ep(tcp);
  std::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("fake switch: listen on tcp: ", ec.message()));
  auto local = impl_->acceptor.local_endpoint(ec);
  if (ec) return absl::UnavailableError(ec.message());
  sockaddr_in sin;
  std::memcpy(&sin, local.data(), sizeof sin);
  asio::co_spawn(impl_->ex, impl_->AcceptLoop(impl_), asio::detached);
  return absl::StrCat("tcp:127.0.0.1:", ntohs(sin.sin_port));
}

absl::StatusOr<std::string> FakeSwitch::ListenUnix(const std::string& path) {
  ::unlink(path.c_str());
  asio::generic::stream_protocol::endpoint ep(asio::local::stream_protocol::endpoint{path});
  std::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("fake switch: listen on ", path, ": ", ec.message()));
  }
  impl_->unix_path = path;
  asio::co_spawn(impl_->ex, impl_->AcceptLoop(impl_), asio::detached);
  return absl::StrCat("unix:", path);
}

void FakeSwitch::DropConnections() { impl_->CloseSessions(); }

void FakeSwitch::Restart() {
  impl_->CloseSessions();
  impl_->flows.clear();
  impl_->groups.clear();
  impl_->meters.clear();
}

void FakeSwitch::RejectFlowMod(uint64_t nth, of::Error error, RejectAt at) {
  impl_->reject_at_seq = nth == 0 ? 0 : impl_->flow_mods_seen + nth;
  impl_->reject_error = std::move(error);
  impl_->reject_at = at;
}

absl::Status FakeSwitch::Apply(const of::FlowMod& mod) {
  if (auto e = impl_->DoFlowMod(mod, nullptr)) return of::ErrorToStatus(*e, "fake switch");
  return absl::OkStatus();
}
absl::Status FakeSwitch::Apply(const of::GroupMod& mod) {
  if (auto e = impl_->DoGroupMod(mod, nullptr)) return of::ErrorToStatus(*e, "fake switch");
  return absl::OkStatus();
}
absl::Status FakeSwitch::Apply(const of::MeterMod& mod) {
  if (auto e = impl_->DoMeterMod(mod)) return of::ErrorToStatus(*e, "fake switch");
  return absl::OkStatus();
}

size_t FakeSwitch::flow_count() const { return impl_->flows.size(); }

size_t FakeSwitch::AddTraffic(uint8_t table, const of::Match& match, uint64_t packets,
                              uint64_t bytes) {
  size_t hit = 0;
  for (auto& [key, flow] : impl_->flows) {
    if (key.table != table || !(key.match == match)) continue;
    flow.packets += packets;
    flow.bytes += bytes;
    ++hit;
  }
  return hit;
}
size_t FakeSwitch::group_count() const { return impl_->groups.size(); }
size_t FakeSwitch::meter_count() const { return impl_->meters.size(); }

std::vector<of::FlowStats> FakeSwitch::Flows() const {
  std::vector<of::FlowStats> out;
  for (const auto& [key, flow] : impl_->SortedFlows()) out.push_back(Impl::Stats(*key, *flow));
  return out;
}
std::vector<of::GroupDesc> FakeSwitch::Groups() const {
  std::vector<of::GroupDesc> out;
  for (const auto& [id, g] : impl_->groups) out.push_back(g);
  return out;
}
std::vector<of::MeterConfig> FakeSwitch::Meters() const {
  std::vector<of::MeterConfig> out;
  for (const auto& [id, m] : impl_->meters) out.push_back(m);
  return out;
}

const FakeSwitch::Counters& FakeSwitch::counters() const { return impl_->counters; }
void FakeSwitch::ResetCounters() { impl_->counters = Counters{}; }

}  // namespace shortcut::fakes
