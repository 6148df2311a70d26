#include "src/reconcile/reconciler.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "src/common/status_macros.h"
#include "src/openflow/codec.h"
#include "src/openflow/errors.h"
#include "src/openflow/text.h"

namespace shortcut::reconcile {
namespace {

using ofconn::Connection;

constexpr uint16_t kBundleFlags = of::kBundleAtomic | of::kBundleOrdered;

of::Message Msg(uint32_t xid, of::MessageBody body) {
  return of::Message{of::kVersion13, xid, std::move(body)};
}

std::string Describe(const PlannedMessage& m) {
  static constexpr const char* kFlowCmd[] = {"add", "modify", "modify_strict", "delete",
                                             "delete_strict"};
  static constexpr const char* kCmd[] = {"add", "modify", "delete"};
  if (const auto* f = std::get_if<of::FlowMod>(&m.mod)) {
    std::string match = of::FormatMatch(f->match);
    return absl::StrCat("flow ", kFlowCmd[static_cast<int>(f->command) % 5], " table=", f->table_id,
                        ",priority=", f->priority, match.empty() ? "" : ",", match);
  }
  if (const auto* g = std::get_if<of::GroupMod>(&m.mod)) {
    return absl::StrCat("group ", kCmd[static_cast<int>(g->command) % 3],
                        " group_id=", g->group_id);
  }
  const auto& mm = std::get<of::MeterMod>(m.mod);
  return absl::StrCat("meter ", kCmd[static_cast<int>(mm.command) % 3], " meter=", mm.meter_id);
}

// "OFPBAC_BAD_OUT_PORT (output port invalid) at origin 12 (flow add ...)".
std::string DescribeError(const SyncError& e) {
  return absl::StrCat(of::ErrorName(e.error), " (", std::string(of::ErrorDescription(e.error)),
                      ") at origin ", e.origin, " [", e.what, "]");
}

absl::Status Rejected(const char* stage, const std::vector<SyncError>& errors, bool unchanged) {
  constexpr size_t kMaxNamed = 5;
  std::vector<std::string> parts;
  for (size_t i = 0; i < errors.size() && i < kMaxNamed; ++i) {
    parts.push_back(DescribeError(errors[i]));
  }
  if (errors.size() > kMaxNamed)
    parts.push_back(absl::StrCat("and ", errors.size() - kMaxNamed, " more"));
  return absl::FailedPreconditionError(absl::StrCat("switch rejected ", stage,
                                                    unchanged ? " (switch left unchanged): " : ": ",
                                                    absl::StrJoin(parts, "; ")));
}

// Maps tracked errors back to planned messages.
class XidMap {
 public:
  void Add(uint32_t xid, const PlannedMessage* m) { map_.emplace(xid, m); }
  void Reserve(size_t n) { map_.reserve(n); }
  void Collect(const std::vector<std::pair<uint32_t, of::Error>>& tracked,
               std::vector<SyncError>& out) const {
    for (const auto& [xid, error] : tracked) {
      auto it = map_.find(xid);
      if (it == map_.end()) {
        out.push_back(SyncError{0, error, absl::StrCat("xid ", xid)});
      } else {
        out.push_back(SyncError{it->second->origin, error, Describe(*it->second)});
      }
    }
  }
  bool Contains(uint32_t xid) const { return map_.contains(xid); }

 private:
  absl::flat_hash_map<uint32_t, const PlannedMessage*> map_;
};

// Sends `msgs` (tracked), then a barrier; returns the tracked errors.
asio::awaitable<absl::StatusOr<std::vector<std::pair<uint32_t, of::Error>>>> SendTracked(
    Connection& conn, const std::vector<const PlannedMessage*>& msgs, XidMap& xids,
    std::vector<uint32_t>* sent_xids, const DriverOptions& opt) {
  for (const PlannedMessage* m : msgs) {
    const uint32_t xid = conn.NextXid();
    conn.Track(xid);
    xids.Add(xid, m);
    if (sent_xids) sent_xids->push_back(xid);
    CO_ASSIGN_OR_RETURN(uint32_t sent, co_await conn.Send(Msg(xid, m->Body())));
    (void)sent;
  }
  CO_RETURN_IF_ERROR(co_await conn.Barrier(opt.timeout_ms));
  co_return conn.TakeTrackedErrors([&](uint32_t x) { return xids.Contains(x); });
}

// Undoes the meter changes of plan.meters_before that the switch accepted.
// `failed` holds the xids (parallel to meters_before) that were rejected.
asio::awaitable<absl::Status> UndoMeters(Connection& conn, const Plan& plan,
                                         const std::vector<uint32_t>& xids,
                                         const absl::flat_hash_map<uint32_t, bool>& failed,
                                         const DriverOptions& opt) {
  const size_t n = plan.meters_before.size();
  std::vector<const PlannedMessage*> undo;
  for (size_t k = 0; k < plan.meters_undo.size() && k < n; ++k) {
    // meters_undo is reversed: entry k undoes meters_before[n - 1 - k].
    const size_t i = n - 1 - k;
    if (i < xids.size() && !failed.contains(xids[i])) undo.push_back(&plan.meters_undo[k]);
  }
  if (undo.empty()) co_return absl::OkStatus();
  XidMap map;
  CO_ASSIGN_OR_RETURN(auto errors, co_await SendTracked(conn, undo, map, nullptr, opt));
  if (!errors.empty()) {
    std::vector<SyncError> described;
    map.Collect(errors, described);
    co_return absl::InternalError(
        absl::StrCat("undoing meter changes failed: ", DescribeError(described[0])));
  }
  co_return absl::OkStatus();
}

// A bundle control request. Built by a function, not braced inside the
// co_await expression: g++ 12 may destroy such temporaries twice.
of::Message BundleControlMessage(uint32_t bundle_id, of::BundleControlType type) {
  of::BundleControl control;
  control.bundle_id = bundle_id;
  control.type = type;
  control.flags = kBundleFlags;
  return Msg(0, control);
}

// Runs one bundle control request and checks the reply type.
asio::awaitable<absl::Status> BundleControl(Connection& conn, uint32_t bundle_id,
                                            of::BundleControlType type,
                                            of::BundleControlType reply_type,
                                            const DriverOptions& opt) {
  CO_ASSIGN_OR_RETURN(of::Message reply,
                      co_await conn.Call(BundleControlMessage(bundle_id, type), opt.timeout_ms));
  const auto* bc = std::get_if<of::BundleControl>(&reply.body);
  if (bc == nullptr || bc->type != reply_type || bc->bundle_id != bundle_id) {
    co_return absl::InternalError(
        absl::StrCat("unexpected reply to bundle control request ", static_cast<int>(type)));
  }
  co_return absl::OkStatus();
}

template <typename Vec>
asio::awaitable<absl::StatusOr<std::vector<Vec>>> Dump(Connection& conn,
                                                       of::MultipartRequest request,
                                                       const DriverOptions& opt) {
  CO_ASSIGN_OR_RETURN(std::vector<of::Message> parts,
                      co_await conn.CallMultipart(Msg(0, std::move(request)), opt.timeout_ms));
  std::vector<Vec> out;
  out.reserve(parts.size());
  for (of::Message& part : parts) {
    auto* reply = std::get_if<of::MultipartReply>(&part.body);
    Vec* body = reply ? std::get_if<Vec>(&reply->body) : nullptr;
    if (body == nullptr) co_return absl::InternalError("unexpected reply to a multipart request");
    out.push_back(std::move(*body));
  }
  co_return out;
}

}  // namespace

std::string GroupSpec(const GroupEntry& group) {
  of::GroupMod mod = ToGroupMod(group, of::GroupModCommand::kAdd);
  mod.group_id = 0;
  return of::FormatGroupSpec(mod);
}

std::string MeterSpec(const MeterEntry& meter) {
  of::MeterMod mod = ToMeterMod(meter, of::MeterModCommand::kAdd);
  mod.meter_id = 0;
  return of::FormatMeterSpec(mod);
}

asio::awaitable<absl::StatusOr<SwitchState>> ReadSwitch(Connection& conn, const Ownership& own,
                                                        DriverOptions opt) {
  SwitchState state;
  of::FlowStatsRequest flows_req;
  flows_req.table_id = of::kTableAll;
  flows_req.cookie = own.cookie & own.cookie_mask;
  flows_req.cookie_mask = own.cookie_mask;
  CO_ASSIGN_OR_RETURN(auto flow_parts, co_await Dump<std::vector<of::FlowStats>>(
                                           conn, of::MultipartRequest{0, flows_req}, opt));
  size_t n = 0;
  for (const auto& part : flow_parts) n += part.size();
  state.ReserveFlows(n);
  for (const auto& part : flow_parts) {
    for (const of::FlowStats& fs : part) {
      if (own.OwnsFlow(fs.cookie)) state.AddFlow(FlowFromStats(fs));
    }
  }
  if (own.shared_cookie_mask != 0) {
    // The shared space: a second dump, filtered by the switch as well.
    of::FlowStatsRequest shared_req;
    shared_req.table_id = of::kTableAll;
    shared_req.cookie = own.shared_cookie & own.shared_cookie_mask;
    shared_req.cookie_mask = own.shared_cookie_mask;
    CO_ASSIGN_OR_RETURN(auto shared_parts, co_await Dump<std::vector<of::FlowStats>>(
                                               conn, of::MultipartRequest{0, shared_req}, opt));
    for (const auto& part : shared_parts) {
      for (const of::FlowStats& fs : part) {
        if (own.SharesFlow(fs.cookie)) state.AddFlow(FlowFromStats(fs));
      }
    }
  }
  CO_ASSIGN_OR_RETURN(auto group_parts,
                      co_await Dump<std::vector<of::GroupDesc>>(
                          conn, of::MultipartRequest{0, of::GroupDescRequest{}}, opt));
  for (const auto& part : group_parts) {
    for (const of::GroupDesc& gd : part) {
      if (own.OwnsGroup(gd.group_id)) state.AddGroup(GroupFromDesc(gd));
    }
  }
  CO_ASSIGN_OR_RETURN(auto meter_parts,
                      co_await Dump<std::vector<of::MeterConfig>>(
                          conn, of::MultipartRequest{0, of::MeterConfigRequest{}}, opt));
  for (const auto& part : meter_parts) {
    for (const of::MeterConfig& mc : part) {
      if (own.OwnsMeter(mc.meter_id)) state.AddMeter(MeterFromConfig(mc));
    }
  }
  co_return state;
}

asio::awaitable<absl::StatusOr<SyncResult>> Apply(Connection& conn, const Plan& plan,
                                                  DriverOptions opt,
                                                  std::vector<SyncError>* errors_out) {
  SyncResult result;
  result.planned = plan.summary;
  if (plan.empty()) co_return result;
  std::vector<SyncError> errors;
  auto fail = [&](absl::Status status) {
    if (errors_out) *errors_out = errors;
    return status;
  };

  XidMap xids;
  xids.Reserve(plan.message_count());

  // 1. Meter adds and modifies.
  std::vector<uint32_t> meter_xids;
  absl::flat_hash_map<uint32_t, bool> meter_failed;
  // Undoes the accepted meter changes, then fails with `why`.
  auto undo_and_fail = [&](absl::Status why) -> asio::awaitable<absl::Status> {
    absl::Status undo = co_await UndoMeters(conn, plan, meter_xids, meter_failed, opt);
    if (errors_out) *errors_out = errors;
    if (undo.ok()) co_return why;
    co_return absl::InternalError(absl::StrCat(why.message(), "; then ", undo.message()));
  };
  if (!plan.meters_before.empty()) {
    std::vector<const PlannedMessage*> msgs;
    for (const auto& m : plan.meters_before) msgs.push_back(&m);
    CO_ASSIGN_OR_RETURN(auto tracked, co_await SendTracked(conn, msgs, xids, &meter_xids, opt));
    result.messages += msgs.size();
    if (!tracked.empty()) {
      for (const auto& [xid, e] : tracked) meter_failed[xid] = true;
      xids.Collect(tracked, errors);
      absl::Status why = Rejected("meter changes", errors, true);
      co_return co_await undo_and_fail(std::move(why));
    }
  }

  // 2. The bundle.
  if (!plan.bundle.empty()) {
    const uint32_t bundle_id = conn.NextXid();
    absl::Status open = co_await BundleControl(conn, bundle_id, of::BundleControlType::kOpenRequest,
                                               of::BundleControlType::kOpenReply, opt);
    if (!open.ok()) co_return co_await undo_and_fail(open);
    of::Bytes batch;
    batch.reserve(opt.batch_bytes + 4096);
    for (const PlannedMessage& m : plan.bundle) {
      const uint32_t xid = conn.NextXid();
      conn.Track(xid);
      xids.Add(xid, &m);
      absl::Status enc =
          of::EncodeBundleAdd(xid, bundle_id, kBundleFlags, Msg(xid, m.Body()), batch);
      if (!enc.ok()) {
        // Cannot be sent at all: nothing of the bundle is committed.
        (void)co_await BundleControl(conn, bundle_id, of::BundleControlType::kDiscardRequest,
                                     of::BundleControlType::kDiscardReply, opt);
        absl::Status why = absl::InvalidArgumentError(absl::StrCat(
            "cannot encode ", Describe(m), " (origin ", m.origin, "): ", enc.message()));
        co_return co_await undo_and_fail(std::move(why));
      }
      if (batch.size() >= opt.batch_bytes) {
        CO_RETURN_IF_ERROR(co_await conn.SendEncoded(std::exchange(batch, {})));
        batch.reserve(opt.batch_bytes + 4096);
      }
    }
    if (!batch.empty()) CO_RETURN_IF_ERROR(co_await conn.SendEncoded(std::move(batch)));
    result.messages += plan.bundle.size() + 3;  // Adds, open, close, commit.
    spdlog::debug("bundle {}: {} messages queued", bundle_id, plan.bundle.size());

    // Every error about a BUNDLE_ADD precedes the close reply.
    absl::Status closed =
        co_await BundleControl(conn, bundle_id, of::BundleControlType::kCloseRequest,
                               of::BundleControlType::kCloseReply, opt);
    auto tracked = conn.TakeTrackedErrors([&](uint32_t x) { return xids.Contains(x); });
    if (!tracked.empty() || !closed.ok()) {
      xids.Collect(tracked, errors);
      (void)co_await BundleControl(conn, bundle_id, of::BundleControlType::kDiscardRequest,
                                   of::BundleControlType::kDiscardReply, opt);
      absl::Status why = errors.empty() ? closed : Rejected("the bundle", errors, true);
      co_return co_await undo_and_fail(std::move(why));
    }
    absl::Status commit =
        co_await BundleControl(conn, bundle_id, of::BundleControlType::kCommitRequest,
                               of::BundleControlType::kCommitReply, opt);
    if (!commit.ok()) {
      // The failing inner message's error arrives before the commit's.
      xids.Collect(conn.TakeTrackedErrors([&](uint32_t x) { return xids.Contains(x); }), errors);
      if (errors.empty()) {
        std::optional<of::Error> e = ofconn::ErrorFromStatus(commit);
        if (!e) {  // Lost connection or timeout: the outcome is unknown.
          co_return fail(commit);
        }
        errors.push_back(SyncError{0, *e, "bundle commit"});
      }
      absl::Status why = Rejected("the bundle", errors, true);
      co_return co_await undo_and_fail(std::move(why));
    }
  }

  // 3. Meter deletes, now that no flow uses them.
  for (const PlannedMessage& m : plan.meters_after) {
    const uint32_t xid = conn.NextXid();
    conn.Track(xid);
    xids.Add(xid, &m);
    CO_ASSIGN_OR_RETURN(uint32_t sent, co_await conn.Send(Msg(xid, m.Body())));
    (void)sent;
  }
  result.messages += plan.meters_after.size() + 1;

  // 4. The barrier that confirms it all.
  CO_RETURN_IF_ERROR(co_await conn.Barrier(opt.timeout_ms));
  auto tracked = conn.TakeTrackedErrors([&](uint32_t x) { return xids.Contains(x); });
  if (!tracked.empty()) {
    xids.Collect(tracked, errors);
    co_return fail(Rejected("meter deletes (flows and groups were applied)", errors, false));
  }
  result.installed = plan.summary;
  if (errors_out) errors_out->clear();
  co_return result;
}

// ---- SwitchReconciler ----

SwitchReconciler::SwitchReconciler(Options options)
    : options_(std::move(options)),
      groups_(options_.group_pool_min, options_.group_pool_max),
      meters_(options_.meter_pool_min, options_.meter_pool_max) {}

asio::awaitable<absl::StatusOr<SyncResult>> SwitchReconciler::Sync(Connection& conn,
                                                                   const SwitchState& desired) {
  co_return co_await SyncImpl(conn, desired, nullptr);
}

asio::awaitable<absl::StatusOr<SyncResult>> SwitchReconciler::SyncChanged(
    Connection& conn, const SwitchState& desired, const FlowKeySet& changed) {
  co_return co_await SyncImpl(conn, desired, &changed);
}

asio::awaitable<absl::StatusOr<SyncResult>> SwitchReconciler::SyncImpl(Connection& conn,
                                                                       const SwitchState& desired,
                                                                       const FlowKeySet* changed) {
  last_errors_.clear();
  const Ownership& own = options_.ownership;
  std::shared_ptr<Connection> current = conn.is_open() ? conn.shared_from_this() : nullptr;
  // installed_ equals the last successful sync's desired state unless the
  // switch is to be read: only then may the change alone be compared.
  const bool must_read = needs_read_ || conn_.lock() != current;
  if (must_read) changed = nullptr;
  CO_RETURN_IF_ERROR(changed ? CheckDesired(desired, own, *changed) : CheckDesired(desired, own));
  if (!conn.is_open()) co_return absl::UnavailableError("connection to the switch is closed");

  bool read = false;
  if (must_read) {
    absl::StatusOr<SwitchState> state = co_await ReadSwitch(conn, own, options_.driver);
    if (!state.ok()) {
      needs_read_ = true;
      co_return state.status();
    }
    installed_ = *std::move(state);
    spdlog::debug("read switch: {} flows, {} groups, {} meters", installed_.flow_count(),
                  installed_.group_count(), installed_.meter_count());
    conn_ = current;
    needs_read_ = false;
    read = true;
    RefreshExtendTables();
  }

  // Keeping what no desired state held: those entries join a copy of the
  // desired state as they are (only a full comparison would delete them;
  // the keys of a partial one were changed by the caller on purpose).
  const SwitchState* want = &desired;
  SwitchState kept;
  if (keep_unknown_) {
    if (changed == nullptr) {
      for (const auto& [key, flow] : desired.flows()) known_flows_.insert(key);
    } else {
      for (const FlowKey& key : *changed) {
        if (desired.FindFlow(key) != nullptr) known_flows_.insert(key);
      }
    }
    for (const auto& [id, group] : desired.groups()) known_groups_.insert(id);
    for (const auto& [id, meter] : desired.meters()) known_meters_.insert(id);
    // Every group and meter is compared whatever the comparison; flows
    // only in a full one.
    std::vector<const GroupEntry*> groups;
    for (const auto& [id, group] : installed_.groups()) {
      if (own.OwnsGroup(id) && !known_groups_.contains(id) && desired.FindGroup(id) == nullptr) {
        groups.push_back(&group);
      }
    }
    std::vector<const MeterEntry*> meters;
    for (const auto& [id, meter] : installed_.meters()) {
      if (own.OwnsMeter(id) && !known_meters_.contains(id) && desired.FindMeter(id) == nullptr) {
        meters.push_back(&meter);
      }
    }
    std::vector<const FlowEntry*> flows;
    if (changed == nullptr) {
      for (const auto& [key, flow] : installed_.flows()) {
        if (own.OwnsFlow(flow.cookie) && !known_flows_.contains(key) &&
            desired.FindFlow(key) == nullptr) {
          flows.push_back(&flow);
        }
      }
    }
    if (!groups.empty() || !flows.empty() || !meters.empty()) {
      kept = desired;
      for (const FlowEntry* f : flows) kept.AddFlow(*f);
      for (const GroupEntry* g : groups) kept.AddGroup(*g);
      for (const MeterEntry* m : meters) kept.AddMeter(*m);
      spdlog::debug("kept {} flows, {} groups and {} meters no desired state held yet",
                    flows.size(), groups.size(), meters.size());
      want = &kept;
    }
  }
  Plan plan = changed ? ComputePlanFor(*want, installed_, own, *changed)
                      : ComputePlan(*want, installed_, own);
  spdlog::debug("plan: {}", plan.summary.ToString());
  absl::StatusOr<SyncResult> result = co_await Apply(conn, plan, options_.driver, &last_errors_);
  if (!result.ok()) {
    // Whatever happened, the next sync starts from what the switch really holds.
    needs_read_ = true;
    co_return result.status();
  }
  spdlog::debug("applied and confirmed by barrier: {}", result->installed.ToString());
  UpdateInstalled(plan, *want);
  RefreshExtendTables();
  result->read_switch = read;
  co_return result;
}

void SwitchReconciler::SetKeepUnknown(bool keep) {
  if (keep == keep_unknown_) return;
  keep_unknown_ = keep;
  known_flows_.clear();
  known_groups_.clear();
  known_meters_.clear();
  // Off: the next sync compares everything, and deletes what was kept.
  if (!keep) needs_read_ = true;
}

void SwitchReconciler::UpdateInstalled(const Plan& plan, const SwitchState& desired) {
  // Cost in proportion to the change, not to the table: a plan names every
  // entry that differs, and the desired state holds their new contents.
  installed_.ReserveFlows(installed_.flow_count() + plan.summary.flows.added);
  auto flow_key = [](const of::FlowMod& m) { return FlowKey{m.table_id, m.priority, m.match}; };
  for (const PlannedMessage& m : plan.bundle) {
    if (const auto* f = std::get_if<of::FlowMod>(&m.mod)) {
      if (f->command == of::FlowModCommand::kDeleteStrict) {
        if (m.kind == ChangeKind::kDelete) installed_.RemoveFlow(flow_key(*f));
      } else if (const FlowEntry* want = desired.FindFlow(flow_key(*f))) {
        installed_.AddFlow(*want);
      }
    } else if (const auto* g = std::get_if<of::GroupMod>(&m.mod)) {
      if (g->command == of::GroupModCommand::kDelete) {
        installed_.RemoveGroup(g->group_id);
      } else if (const GroupEntry* want = desired.FindGroup(g->group_id)) {
        installed_.AddGroup(*want);
      }
    }
  }
  for (const PlannedMessage& m : plan.meters_before) {
    const auto& mm = std::get<of::MeterMod>(m.mod);
    if (const MeterEntry* want = desired.FindMeter(mm.meter_id)) installed_.AddMeter(*want);
  }
  for (const PlannedMessage& m : plan.meters_after) {
    installed_.RemoveMeter(std::get<of::MeterMod>(m.mod).meter_id);
  }
}

void SwitchReconciler::RefreshExtendTables() {
  groups_.ClearExisting();
  for (const auto& [id, group] : installed_.groups()) {
    if (groups_.pool().Contains(id)) (void)groups_.SetExisting(id, GroupSpec(group));
  }
  meters_.ClearExisting();
  for (const auto& [id, meter] : installed_.meters()) {
    if (meters_.pool().Contains(id)) (void)meters_.SetExisting(id, MeterSpec(meter));
  }
}

}  // namespace shortcut::reconcile
