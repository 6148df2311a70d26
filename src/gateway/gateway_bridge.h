// The gateway's own bridge (its data plane, pipeline/gateway_pipeline.h) as
// the gateway keeps it: a forwarding flow per endpoint of its VPCs, the
// metered packet-in copy, and the packet-ins that come back.
//
// The desired state lives here and changes incrementally (PutEndpoint,
// RemoveEndpoint, ...), at the cost of one flow per call, whatever the
// number of endpoints. On every new connection the reconciler reads the
// switch and converges on a copy of the whole desired state (the meter's id
// comes from its extend table); between connections, each change is sent
// as its own flow_mod, batched with the others (FlowBatcher). A failed
// incremental change makes the next round a full converge again.
//
// Nothing is written before the first change: a restarted gateway leaves
// the flows its predecessor installed until its endpoints are loaded again.
//
// Every connection is asked for packet-ins (SET_CONFIG miss_send_len: Open
// vSwitch sends none to a management-socket connection otherwise) and a
// reader hands each PACKET_IN to the handler given at Start().
//
// Lifetime: Start() spawns coroutines holding a shared_ptr; Stop() ends
// them. Thread-safety: none; the executor given to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/gateway/flow_batcher.h"
#include "src/ofconn/session.h"
#include "src/ofconn/signal.h"
#include "src/openflow/message.h"
#include "src/pipeline/gateway_pipeline.h"
#include "src/reconcile/reconciler.h"

namespace shortcut::gateway {

class GatewayBridge : public std::enable_shared_from_this<GatewayBridge> {
 public:
  struct Options {
    std::string name = "gateway bridge";  // For logs.
    ofconn::Target target;
    ofconn::Session::Options session;
    Millis call_timeout = 5000;
    uint32_t packet_in_rate_pps = 10000;  // The meter on the copies to the daemon.
    // Deadlines, pauses and the session's backoff; must outlive the bridge.
    const Clock* clock = &SystemClock::Get();
  };
  struct Counters {
    uint64_t full_syncs = 0;
    uint64_t sync_failures = 0;
    uint64_t incremental_flow_mods = 0;  // Confirmed.
    uint64_t packet_ins = 0;             // Received and handed over.
  };
  // Takes the packet-ins of one read of the connection at once (a burst:
  // everything queued when the reader woke), so their lookups can be
  // batched.
  using PacketInHandler = std::function<void(std::span<const of::PacketIn>)>;

  static std::shared_ptr<GatewayBridge> Start(asio::any_io_executor ex, Options options,
                                              PacketInHandler handler);
  void Stop();

  void PutVpc(uint32_t vni);
  void RemoveVpc(uint32_t vni);
  void PutEndpoint(uint32_t vni, uint32_t ipv4, uint32_t host_ip);
  void RemoveEndpoint(uint32_t vni, uint32_t ipv4);
  // As HostProgrammer::SetKeepUnknown: while on, a full sync keeps the
  // forwarding flows this gateway has not wanted since it started (its
  // endpoints are still being loaded); turned off, the bridge is synced
  // whole again.
  void SetKeepUnknown(bool keep);

  // Counting flows (pipeline::GatewayCountFlowAdd) of the threshold offload
  // policy: not part of the desired state (they idle out on the switch), so
  // a full sync leaves them; sent with the other changes. An endpoint that
  // moves or goes and a VPC that goes take theirs with them.
  void AddCountFlow(uint32_t vni, uint32_t src_host, uint32_t dst_ipv4, uint32_t dst_host,
                    uint16_t idle_timeout_s);
  void RemoveCountFlowsOfVpc(uint32_t vni);
  // Every counting flow on the switch now, with its counters.
  asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> DumpCountFlows();

  // Waits until the switch holds everything asked for so far (or `timeout`
  // ms pass: DeadlineExceeded).
  asio::awaitable<absl::Status> WaitInstalled(Millis timeout);

  bool connected() const { return session_->connection() != nullptr; }
  bool in_sync() const { return installed_gen_ == wanted_gen_ && !needs_full_; }
  size_t desired_flows() const { return desired_.flow_count(); }
  uint32_t meter_id() const { return config_.meter_id; }
  const Counters& counters() const { return counters_; }

 private:
  GatewayBridge(asio::any_io_executor ex, Options options, PacketInHandler handler);
  void Change(const of::FlowMod& mod);
  asio::awaitable<void> SyncLoop(std::shared_ptr<GatewayBridge> self);
  asio::awaitable<void> WatchConnections(std::shared_ptr<GatewayBridge> self);
  asio::awaitable<void> ReadPacketIns(std::shared_ptr<GatewayBridge> self,
                                      std::shared_ptr<ofconn::Connection> conn);

  asio::any_io_executor ex_;
  Options options_;
  PacketInHandler handler_;
  std::shared_ptr<ofconn::Session> session_;
  reconcile::SwitchReconciler reconciler_;
  pipeline::GatewayBridgeConfig config_;
  reconcile::SwitchState desired_;
  std::vector<of::FlowMod> pending_;          // Changes since the last round.
  absl::flat_hash_set<uint32_t> count_vnis_;  // VNIs that had counting flows.
  bool needs_full_ = true;
  bool armed_ = false;  // A change was asked for since start.
  uint64_t wanted_gen_ = 0;
  uint64_t installed_gen_ = 0;
  uint64_t connections_ = 0;
  ofconn::Signal work_;
  ofconn::Signal done_;
  FlowBatcher batcher_;
  bool stopped_ = false;
  Counters counters_;
};

}  // namespace shortcut::gateway
