#include "src/ctl/host_cmd.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <memory>

#include "absl/strings/str_cat.h"
#include "src/ctl/run_context.h"
#include "src/host/iface_watch.h"
#include "src/ovsdb/client.h"
#include "src/ovsdb/datum.h"
#include "src/ovsdb/ops.h"
#include "src/ovsdb/replica_session.h"
#include "src/ovsdb/vswitch.h"

namespace shortcut::ctl {
namespace {

using ovsdb::Json;
using ovsdb::OvsdbClient;
using ClientPtr = std::shared_ptr<OvsdbClient>;

ovsdb::OvsdbClient::Options ClientOptions(const HostOptions& o) {
  OvsdbClient::Options c;
  c.connect_timeout = o.timeout_ms;
  c.call_timeout = o.timeout_ms;
  return c;
}

asio::awaitable<absl::StatusOr<ClientPtr>> ConnectDb(asio::any_io_executor ex,
                                                     const HostOptions& o) {
  auto target = ovsdb::ParseOvsdbTarget(o.db);
  if (!target.ok()) {
    co_return absl::InvalidArgumentError(absl::StrCat("--db: ", target.status().message()));
  }
  auto client = co_await OvsdbClient::Connect(ex, *target, ClientOptions(o));
  if (!client.ok()) {
    co_return absl::UnavailableError(
        absl::StrCat("cannot reach the database at ", o.db, ": ", client.status().message()));
  }
  co_return *std::move(client);
}

asio::awaitable<absl::StatusOr<ovsdb::VsSnapshot>> ReadVswitch(OvsdbClient& client) {
  auto replica = co_await ovsdb::LoadReplica(client, ovsdb::kVswitchDb, ovsdb::VswitchMonitors());
  if (!replica.ok()) {
    co_return absl::Status(
        replica.status().code(),
        absl::StrCat("reading the Open_vSwitch database: ", replica.status().message()));
  }
  co_return ovsdb::VsSnapshot::FromReplica(*replica);
}

// Commits `plan` together with a bump of next_cfg, then (if asked) waits
// until ovs-vswitchd reports it applied that configuration, as ovs-vsctl
// does: cur_cfg is monitored from before the commit, so its update
// arrives as a notification, with no polling.
asio::awaitable<absl::Status> Commit(asio::any_io_executor ex, OvsdbClient& client,
                                     const ovsdb::VsSnapshot& db, const HostOptions& o,
                                     const host::HostPlan& plan) {
  Json root = Json::array({ovsdb::Cond("_uuid", "==", ovsdb::Uuid(db.root_uuid))});
  Json monitor_id = "shortcut-cur-cfg";
  int64_t cur = 0;
  if (o.wait) {
    Json requests = {{"Open_vSwitch", Json::array({{{"columns", {"cur_cfg"}}}})}};
    auto initial = co_await client.MonitorCond(ovsdb::kVswitchDb, monitor_id, std::move(requests));
    if (!initial.ok()) co_return initial.status();
    for (const auto& [uuid, row] : (*initial)["Open_vSwitch"].items()) {
      cur = ovsdb::IntegerAtom(row["initial"]["cur_cfg"]);
    }
  }
  Json ops = plan.ops;
  ops.push_back(ovsdb::op::Mutate("Open_vSwitch", root, {ovsdb::Mutation("next_cfg", "+=", 1)}));
  ops.push_back(ovsdb::op::Select("Open_vSwitch", root, {"next_cfg"}));
  auto result = co_await client.Transact(ovsdb::kVswitchDb, std::move(ops));
  if (!result.ok()) co_return result.status();
  if (!o.wait) co_return absl::OkStatus();
  const Json& selected = result->at(result->size() - 1);
  int64_t want = selected["rows"][0]["next_cfg"].get<int64_t>();

  // The deadline closes the connection, which ends the wait below.
  bool expired = false;
  asio::steady_timer deadline(ex);
  deadline.expires_after(std::chrono::milliseconds(o.timeout_ms));
  deadline.async_wait([&client, &expired](const std::error_code& ec) {
    if (ec) return;
    expired = true;
    client.Close();
  });
  absl::Status status;
  while (cur < want) {
    auto note = co_await client.NextNotification();
    if (!note.ok()) {
      status = expired ? absl::DeadlineExceededError(absl::StrCat(
                             "the change is committed, but ovs-vswitchd did not apply it within ",
                             o.timeout_ms, " ms (is ovs-vswitchd running on this database?)"))
                       : note.status();
      break;
    }
    const Json& params = note->params;
    if (note->method != "update2" || params.size() != 2 || params[0] != monitor_id) continue;
    for (const auto& [uuid, change] : params[1]["Open_vSwitch"].items()) {
      if (change.contains("modify") && change["modify"].contains("cur_cfg")) {
        cur = ovsdb::IntegerAtom(change["modify"]["cur_cfg"]);
      }
    }
  }
  deadline.cancel();
  co_return status;
}

// Connects, runs `body` with the client, and closes the connection so that
// the command's io_context runs out of work and returns.
template <typename Body>
absl::Status WithDb(const HostOptions& o, Body body) {
  return RunOnContext([&](asio::any_io_executor ex) -> asio::awaitable<absl::Status> {
    auto client = co_await ConnectDb(ex, o);
    if (!client.ok()) co_return client.status();
    absl::Status status = co_await body(ex, **client);
    (*client)->Close();
    co_return status;
  });
}

void AppendPlan(const host::HostPlan& plan, std::string* output) {
  for (const std::string& line : plan.changes) absl::StrAppend(output, "  ", line, "\n");
  for (const std::string& line : plan.notes) absl::StrAppend(output, "  note: ", line, "\n");
}

}  // namespace

absl::Status RunHostInit(const HostOptions& o, const host::HostInitParams& params,
                         std::string* output) {
  if (auto s = host::ValidateInitParams(params); !s.ok()) return s;
  return WithDb(
      o, [&](asio::any_io_executor ex, OvsdbClient& client) -> asio::awaitable<absl::Status> {
        auto db = co_await ReadVswitch(client);
        if (!db.ok()) co_return db.status();
        auto plan = host::PlanInit(*db, params);
        if (!plan.ok()) co_return plan.status();
        if (plan->empty()) {
          absl::StrAppend(output, "host init: nothing to change: bridge ", params.bridge,
                          " is ready\n");
          co_return absl::OkStatus();
        }
        if (auto s = co_await Commit(ex, client, *db, o, *plan); !s.ok()) co_return s;
        absl::StrAppend(output, "host init: bridge ", params.bridge, ":\n");
        AppendPlan(*plan, output);
        if (!o.wait) co_return absl::OkStatus();
        // ovs-vswitchd reports a port it could not create in Interface:error.
        std::vector<std::string> names = {params.bridge, host::kTunnelPort};
        for (const std::string& name : names) {
          Json where = Json::array({ovsdb::Cond("name", "==", name)});
          Json select = Json::array({ovsdb::op::Select("Interface", where, {"error"})});
          auto rows = co_await client.Transact(ovsdb::kVswitchDb, std::move(select));
          if (!rows.ok()) co_return rows.status();
          for (const Json& row : (*rows)[0]["rows"]) {
            std::string error = ovsdb::StringAtom(row["error"]);
            if (!error.empty()) {
              co_return absl::FailedPreconditionError(
                  absl::StrCat("ovs-vswitchd could not set up interface ", name, ": ", error));
            }
          }
        }
        co_return absl::OkStatus();
      });
}

absl::Status RunHostShow(const HostOptions& o, std::string* output) {
  return WithDb(o,
                [&](asio::any_io_executor, OvsdbClient& client) -> asio::awaitable<absl::Status> {
                  auto db = co_await ReadVswitch(client);
                  if (!db.ok()) co_return db.status();
                  host::HostView view = host::DescribeHost(*db, o.bridge);
                  if (o.json) {
                    absl::StrAppend(output, host::HostViewJson(view).dump(2), "\n");
                  } else {
                    absl::StrAppend(output, host::FormatHostView(view));
                  }
                  co_return absl::OkStatus();
                });
}

absl::StatusOr<std::map<std::string, uint32_t>> ReadIfacePorts(const HostOptions& o) {
  std::map<std::string, uint32_t> ports;
  absl::Status s =
      WithDb(o, [&](asio::any_io_executor, OvsdbClient& client) -> asio::awaitable<absl::Status> {
        auto db = co_await ReadVswitch(client);
        if (!db.ok()) co_return db.status();
        for (const auto& [uuid, itf] : db->interfaces) {
          if (!itf.iface_id().empty() && itf.ofport && *itf.ofport > 0) {
            ports[itf.iface_id()] = static_cast<uint32_t>(*itf.ofport);
          }
        }
        co_return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return ports;
}

absl::Status RunHostReset(const HostOptions& o, std::string* output) {
  return WithDb(
      o, [&](asio::any_io_executor ex, OvsdbClient& client) -> asio::awaitable<absl::Status> {
        auto db = co_await ReadVswitch(client);
        if (!db.ok()) co_return db.status();
        auto plan = host::PlanReset(*db, o.bridge);
        if (!plan.ok()) co_return plan.status();
        if (plan->empty()) {
          absl::StrAppend(output, "host reset: nothing to remove\n");
          AppendPlan(*plan, output);
          co_return absl::OkStatus();
        }
        if (auto s = co_await Commit(ex, client, *db, o, *plan); !s.ok()) co_return s;
        absl::StrAppend(output, "host reset: bridge ", o.bridge, ":\n");
        AppendPlan(*plan, output);
        co_return absl::OkStatus();
      });
}

absl::Status RunHostWatch(const HostOptions& o, const WatchLimits& limits,
                          const std::function<bool(const std::string&)>& emit) {
  auto target = ovsdb::ParseOvsdbTarget(o.db);
  if (!target.ok())
    return absl::InvalidArgumentError(absl::StrCat("--db: ", target.status().message()));
  return RunOnContext([&](asio::any_io_executor ex) -> asio::awaitable<absl::Status> {
    ovsdb::ReplicaSession::Options so;
    so.db = ovsdb::kVswitchDb;
    so.tables = ovsdb::VswitchMonitors();
    so.client = ClientOptions(o);
    auto session = ovsdb::ReplicaSession::Start(ex, *target, std::move(so));

    // Signals and the duration stop the session; the loop below then ends.
    asio::signal_set signals(ex, SIGINT, SIGTERM);
    signals.async_wait([session](const std::error_code& ec, int) {
      if (!ec) session->Stop();
    });
    asio::steady_timer duration(ex);
    if (limits.duration_ms > 0) {
      duration.expires_after(std::chrono::milliseconds(limits.duration_ms));
      duration.async_wait([session](const std::error_code& ec) {
        if (!ec) session->Stop();
      });
    }
    // The first connection must come within the timeout: a wrong address is
    // an error, not a silent wait. Later losses are retried for ever.
    asio::steady_timer first(ex);
    first.expires_after(std::chrono::milliseconds(o.timeout_ms));
    bool first_timed_out = false;
    first.async_wait([session, &first_timed_out](const std::error_code& ec) {
      if (!ec && session->connections() == 0) {
        first_timed_out = true;
        session->Stop();
      }
    });

    host::IfaceTracker tracker(o.bridge);
    size_t emitted = 0;
    absl::Status result;
    while (true) {
      absl::Status s = co_await session->WaitForChange();
      if (!s.ok()) break;  // Stopped.
      ovsdb::Replica* replica = session->replica();
      if (!session->synced() || replica == nullptr) continue;
      first.cancel();
      replica->TakeChanges();
      for (const host::IfaceEvent& e : tracker.Update(ovsdb::VsSnapshot::FromReplica(*replica))) {
        bool more = emit(o.json ? host::IfaceEventJson(e).dump() : host::FormatIfaceEvent(e));
        if (!more || (limits.max_events > 0 && ++emitted >= limits.max_events)) {
          session->Stop();
          break;
        }
      }
    }
    signals.cancel();
    duration.cancel();
    first.cancel();
    if (first_timed_out) {
      co_return absl::UnavailableError(absl::StrCat("cannot reach the database at ", o.db,
                                                    " within ", o.timeout_ms,
                                                    " ms: ", session->last_error().message()));
    }
    co_return absl::OkStatus();
  });
}

}  // namespace shortcut::ctl
