#include "src/gateway/gateway_bridge.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/common/clock_timer.h"
#include "src/common/fatal.h"
#include "src/gateway/flow_dump.h"

namespace shortcut::gateway {
namespace {

// Meters the gateway bridge may use: a small range every datapath supports.
constexpr uint32_t kMeterMin = 1;
constexpr uint32_t kMeterMax = 1000;
// Packet-ins handed to the forwarder at once, at most: enough to overlap
// the lookups' misses, small enough that the first of a burst waits little.
constexpr size_t kMaxBurst = 256;

reconcile::SwitchReconciler::Options ReconcilerOptions(const GatewayBridge::Options& o) {
  reconcile::SwitchReconciler::Options r;
  r.ownership = pipeline::GatewayOwnership();
  r.ownership.meter_min = kMeterMin;
  r.ownership.meter_max = kMeterMax;
  r.meter_pool_min = kMeterMin;
  r.meter_pool_max = kMeterMax;
  r.group_pool_min = 1;
  r.group_pool_max = 0;
  r.driver.timeout_ms = o.call_timeout;
  return r;
}

of::Message AskForPacketIns() {
  of::SetConfig set;
  set.config.miss_send_len = 0xffff;  // OFPCML_NO_BUFFER; any nonzero value enables them.
  of::Message m;
  m.body = set;
  return m;
}

}  // namespace

GatewayBridge::GatewayBridge(asio::any_io_executor ex, Options options, PacketInHandler handler)
    : ex_(ex),
      options_(std::move(options)),
      handler_(std::move(handler)),
      reconciler_(ReconcilerOptions(options_)),
      work_(ex),
      done_(ex),
      batcher_(ex, options_.call_timeout) {
  config_.packet_in_rate_pps = options_.packet_in_rate_pps;
  if (config_.packet_in_rate_pps > 0) {
    pipeline::GatewayBridgeConfig spec = config_;
    spec.meter_id = kMeterMin;  // Any id: the spec leaves it out.
    auto id =
        reconciler_.AssignMeterId(reconcile::MeterSpec(pipeline::GatewayMeter(spec)), "packet-in");
    if (!id.ok()) Fatal(absl::StrCat("gateway bridge meter id: ", id.status().ToString()));
    config_.meter_id = *id;
  }
  desired_ = pipeline::BuildGatewayBase(config_);
}

std::shared_ptr<GatewayBridge> GatewayBridge::Start(asio::any_io_executor ex, Options options,
                                                    PacketInHandler handler) {
  std::shared_ptr<GatewayBridge> b(new GatewayBridge(ex, std::move(options), std::move(handler)));
  b->session_ =
      ofconn::Session::Start(ex, b->options_.target, b->options_.session, *b->options_.clock);
  asio::co_spawn(ex, b->SyncLoop(b), asio::detached);
  asio::co_spawn(ex, b->WatchConnections(b), asio::detached);
  return b;
}

void GatewayBridge::Stop() {
  if (stopped_) return;
  stopped_ = true;
  session_->Stop();
  work_.Notify();
  done_.Notify();
}

void GatewayBridge::SetKeepUnknown(bool keep) {
  if (keep == reconciler_.keep_unknown()) return;
  reconciler_.SetKeepUnknown(keep);
  if (keep || !armed_) return;  // Not armed: nothing was synced yet.
  needs_full_ = true;
  ++wanted_gen_;
  work_.Notify();
}

void GatewayBridge::Change(const of::FlowMod& mod) {
  armed_ = true;
  pending_.push_back(mod);
  ++wanted_gen_;
  work_.Notify();
}

void GatewayBridge::PutVpc(uint32_t vni) {
  reconcile::FlowEntry f = pipeline::GatewayVpcFlow(vni);
  const reconcile::FlowEntry* have = desired_.FindFlow(f.key);
  if (have != nullptr && have->SameAs(f)) return;
  Change(pipeline::GatewayFlowAdd(f));
  desired_.AddFlow(std::move(f));
}

void GatewayBridge::RemoveVpc(uint32_t vni) {
  reconcile::FlowKey key = pipeline::GatewayVpcKey(vni);
  if (desired_.RemoveFlow(key)) Change(pipeline::GatewayFlowDelete(key));
  RemoveCountFlowsOfVpc(vni);
}

void GatewayBridge::PutEndpoint(uint32_t vni, uint32_t ipv4, uint32_t host_ip) {
  reconcile::FlowEntry f = pipeline::GatewayEndpointFlow(vni, ipv4, host_ip);
  const reconcile::FlowEntry* have = desired_.FindFlow(f.key);
  if (have != nullptr && have->SameAs(f)) return;
  // Moved: counting flows toward it lead to its old host.
  if (have != nullptr && count_vnis_.contains(vni)) {
    Change(pipeline::GatewayCountFlowDeleteDst(vni, ipv4));
  }
  Change(pipeline::GatewayFlowAdd(f));  // An ADD replaces a flow at the same key.
  desired_.AddFlow(std::move(f));
}

void GatewayBridge::RemoveEndpoint(uint32_t vni, uint32_t ipv4) {
  reconcile::FlowKey key = pipeline::GatewayEndpointKey(vni, ipv4);
  if (desired_.RemoveFlow(key)) Change(pipeline::GatewayFlowDelete(key));
  if (count_vnis_.contains(vni)) Change(pipeline::GatewayCountFlowDeleteDst(vni, ipv4));
}

void GatewayBridge::AddCountFlow(uint32_t vni, uint32_t src_host, uint32_t dst_ipv4,
                                 uint32_t dst_host, uint16_t idle_timeout_s) {
  count_vnis_.insert(vni);
  Change(pipeline::GatewayCountFlowAdd(vni, src_host, dst_ipv4, dst_host, idle_timeout_s));
}

void GatewayBridge::RemoveCountFlowsOfVpc(uint32_t vni) {
  if (count_vnis_.erase(vni) == 0) return;
  Change(pipeline::GatewayCountFlowDeleteVpc(vni));
}

asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> GatewayBridge::DumpCountFlows() {
  auto self = shared_from_this();
  std::shared_ptr<ofconn::Connection> conn = session_->connection();
  if (conn == nullptr) co_return absl::UnavailableError(options_.name + ": not connected");
  co_return co_await DumpFlows(*conn, pipeline::GatewayCountFlowsRequest(), options_.call_timeout);
}

asio::awaitable<void> GatewayBridge::WatchConnections(
    [[maybe_unused]] std::shared_ptr<GatewayBridge> self) {
  while (!stopped_) {
    auto conn = co_await session_->NextConnection();
    if (!conn.ok()) break;
    ++connections_;
    needs_full_ = true;
    reconciler_.ForgetInstalled();
    of::Message ask = AskForPacketIns();
    auto sent = co_await (*conn)->Send(std::move(ask));
    if (!sent.ok()) spdlog::warn("{}: {}", options_.name, sent.status().ToString());
    asio::co_spawn(ex_, ReadPacketIns(self, *conn), asio::detached);
    work_.Notify();
  }
}

asio::awaitable<void> GatewayBridge::ReadPacketIns(
    [[maybe_unused]] std::shared_ptr<GatewayBridge> self,
    std::shared_ptr<ofconn::Connection> conn) {
  std::vector<of::PacketIn> burst;
  while (!stopped_) {
    auto msgs = co_await conn->ReceiveAll(kMaxBurst);
    if (!msgs.ok()) break;  // Closed; the next connection gets its own reader.
    burst.clear();
    for (of::Message& msg : *msgs) {
      if (auto* pin = std::get_if<of::PacketIn>(&msg.body)) burst.push_back(std::move(*pin));
    }
    counters_.packet_ins += burst.size();
    if (handler_ && !burst.empty()) handler_(burst);
  }
}

asio::awaitable<void> GatewayBridge::SyncLoop(
    [[maybe_unused]] std::shared_ptr<GatewayBridge> self) {
  while (!stopped_) {
    std::shared_ptr<ofconn::Connection> conn = session_->connection();
    // Not before the first change: a restarted gateway, its DB still empty,
    // leaves the forwarding flows in place until its endpoints are back.
    bool pending = armed_ && (needs_full_ || installed_gen_ != wanted_gen_);
    if (!pending || conn == nullptr) {
      co_await work_.Wait();
      continue;
    }
    uint64_t gen = wanted_gen_;
    uint64_t connection = connections_;
    absl::Status status;
    if (needs_full_) {
      // The copy is what this round converges on; changes made while it
      // runs stay in pending_ and go next, as increments of it. Counting
      // flows are outside the desired state: their changes go after it.
      std::vector<of::FlowMod> outside;
      for (of::FlowMod& m : pending_) {
        if (pipeline::IsGatewayCountFlowMod(m)) outside.push_back(std::move(m));
      }
      pending_ = std::move(outside);
      reconcile::SwitchState desired = desired_;
      auto result = co_await reconciler_.Sync(*conn, desired);
      status = result.status();
      if (result.ok() && !pending_.empty()) {
        // Converged; the counting flows' changes still to go: one more round.
        needs_full_ = false;
        ++counters_.full_syncs;
        continue;
      }
      if (result.ok()) {
        needs_full_ = false;
        ++counters_.full_syncs;
        if (!result->planned.empty()) {
          spdlog::info("{}: {}", options_.name, result->planned.ToString());
        }
      }
    } else {
      std::vector<of::FlowMod> mods = std::move(pending_);
      pending_.clear();
      size_t n = mods.size();
      status = co_await batcher_.Send(conn, std::move(mods));
      if (status.ok()) counters_.incremental_flow_mods += n;
    }
    if (status.ok()) {
      installed_gen_ = gen;
      done_.Notify();
      continue;
    }
    ++counters_.sync_failures;
    needs_full_ = true;  // Whatever happened, read the switch and converge.
    spdlog::warn("{}: {}", options_.name, status.ToString());
    done_.Notify();
    if (status.code() == absl::StatusCode::kUnavailable) {
      while (!stopped_ && connections_ == connection) co_await work_.Wait();
    } else {
      // The switch rejected something: try again after a pause, not in a loop.
      ClockTimer pause(ex_, *options_.clock);
      pause.ExpiresAfter(options_.call_timeout);
      co_await pause.Wait();
    }
  }
}

asio::awaitable<absl::Status> GatewayBridge::WaitInstalled(Millis timeout) {
  auto self = shared_from_this();
  uint64_t gen = wanted_gen_;
  Deadline deadline(ex_, *options_.clock, timeout, [this, self] { done_.Notify(); });
  absl::Status status;
  while (!(installed_gen_ >= gen && !needs_full_)) {
    if (stopped_) {
      status = absl::CancelledError("gateway bridge stopped");
      break;
    }
    if (deadline.expired()) {
      status = absl::DeadlineExceededError(
          absl::StrCat(options_.name, " did not confirm its rules within ", timeout, " ms (",
                       connected() ? "connected" : "not connected", ")"));
      break;
    }
    co_await done_.Wait();
  }
  deadline.Cancel();
  co_return status;
}

}  // namespace shortcut::gateway
