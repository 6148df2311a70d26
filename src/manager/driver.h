// GatewayDriver: keeps every gateway that is a member of a cluster loaded
// with exactly its cluster's part of the state of record
// (gateway_content.h), and writes back what it observes: each gateway's
// state (UNKNOWN → LOADING → READY, DOWN while unreachable), instance id and
// detail, and endpoints coming ONLINE.
//
// Per gateway, one coroutine applies changes in order:
// - first contact, or GetStats showing a new instance id (a restarted
//   gateway, empty): a full load: SetCluster, then every VPC of its
//   cluster as an AddVpc stream (batches of `batch` endpoints); VPCs the
//   gateway holds and should not (seen through ListEndpoints) are deleted.
//   First contact with the instance the store names (loaded by the manager
//   active before this one) is a verification instead: no LOADING, the
//   same SetCluster (a no-op for the gateway), and each VPC the gateway
//   lists endpoints of is taken as loaded with what it lists: only the
//   endpoints that differ from the desired ones are then sent (updated,
//   added or deleted one by one), nothing is reloaded. (The gateway API lists endpoints, not a
//   VPC's own fields: a network added without endpoints that the previous
//   manager had not yet sent when it stopped is not seen, as for a VPC
//   found held by AddVpc's ALREADY_EXISTS.)
// - then the changes the store reports, as differences between the desired
//   content and what was sent to this gateway (kept per gateway as
//   fingerprints), so a burst of changes to one row is one call and a
//   resend is harmless: hosts or members changed → SetCluster; a VPC new to
//   the cluster → AddVpc, gone → DeleteVpc; a network removed →
//   DeleteNetwork, added → the VPC reloaded (the gateway API has no
//   AddNetwork); an endpoint created, moved or readdressed → UpdateEndpoint,
//   deleted → DeleteEndpoint; many endpoints new to a gateway at once (a
//   bulk load) → AddEndpoints streams, whose ONLINE the poll then finds. Order within a round:
//   cluster, VPCs, endpoints (deletes first).
// - a call whose outcome is unknown (IsTransportFailure) marks the gateway
//   DOWN; after a backoff (doubling, bounded) GetStats tells: the same
//   instance → the changes not yet acknowledged are sent again
//   (ALREADY_EXISTS on an AddVpc whose endpoints the gateway lists as
//   desired, and NOT_FOUND on a delete, count as done); a new instance → a
//   full reload.
// - a call the gateway refuses (InvalidArgument, ...) is kept in the
//   gateway's detail and tried again at the next health check.
// - every `health_interval` GetStats notices a restart without changes.
//   A gateway reporting no instance id (older gatewayd) is reloaded when its
//   VPC or endpoint count differs from what was sent.
//
// Endpoint status: an endpoint whose row says PENDING becomes ONLINE when
// any member of its cluster answers online=true to its UpdateEndpoint, or
// lists it online (ListEndpoints by host, polled every `poll_interval` for
// at most `poll_hosts` hosts holding pending endpoints, in turn; a host
// without an OVSDB target is not polled: no gateway can bind its ports). An
// endpoint that moves to another host (or another port) goes back to
// PENDING until confirmed. All writes of a round go in one transaction.
//
// A VPC moving between clusters (VpcRow::moving_to) is held by both: the
// new cluster's members get it as standby while the move loads (AddVpc
// with Vpc.standby), then SetVpcStandby(false) when it switches, and every
// change of its endpoints goes to both clusters. Once the move is done the
// old cluster's members get DeleteVpc with keep_direct_paths (a VPC that
// still exists keeps its direct paths, whoever drops it: a drained member,
// a stale copy). VpcSettled() tells cluster management when a step is
// done. On first contact with an instance already loaded, a moving VPC's
// standby flag cannot be read back and is sent again.
//
// A gateway leaving its cluster (cluster 0, or deleted) is unloaded (every
// VPC it holds deleted; cluster management drained it first) and gets no
// more updates; its row says UNKNOWN, "not a member of a cluster". Members
// are sent as standby (no bucket, no designation) unless their role is
// serving. READY means loaded and its own bridge confirmed in sync
// (GetStats): cluster management joins only READY members to the buckets. A gateway that changes
// cluster or address starts again from first contact.
//
// Time comes from `Timers` (timers.h); tests drive it.
//
// Thread-safety: none; everything on the executor given at construction.
// Lifetime: Stop() wakes every loop so that it ends when the context runs
// next (finished() tells when all have); the one waiting on the store's
// changes ends at the next change and touches nothing of a destroyed
// driver. Destroy the driver once finished(), or with its context no longer
// run; the store must outlive it.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "src/manager/driver_store.h"
#include "src/manager/gateway_client.h"
#include "src/manager/timers.h"
#include "src/ofconn/signal.h"

namespace shortcut::manager {

class GatewayDriver {
 public:
  struct Options {
    Millis health_interval = 500;
    Millis backoff_min = 100;
    Millis backoff_max = 5000;
    Millis poll_interval = 200;
    size_t poll_hosts = 64;  // Hosts polled per round.
    size_t batch = 10000;    // Endpoints per AddVpc message.
  };

  // What the driver knows of one gateway (for tests and diagnostics).
  struct View {
    GatewayState state = GatewayState::kUnknown;
    std::string instance_id;
    std::string detail;
    uint64_t full_loads = 0;
    bool loaded = false;
    bool settled = false;  // Loaded, reachable, nothing left to send or retry.
  };

  GatewayDriver(asio::any_io_executor ex, DriverStore& store, GatewayClientFactory factory,
                Timers& timers, Options options);
  ~GatewayDriver();
  GatewayDriver(const GatewayDriver&) = delete;
  GatewayDriver& operator=(const GatewayDriver&) = delete;

  void Start();
  void Stop();

  std::optional<View> view(const std::string& gateway) const;
  // Every driven gateway settled and no write waiting.
  bool settled() const;
  // Every reachable member of `cluster` that is not draining has been sent
  // the cluster's current SetCluster and acknowledged it (hosts programmed
  // by it): a draining member is out of every bucket.
  bool ClusterSettled(uint32_t cluster) const;
  // A move's step is done in `cluster`: every serving member holds `vpc` as
  // the store wants it there (standby while the move loads, served once it
  // switches), acknowledged, its bridge confirmed in sync since by GetStats;
  // none of them is down; and there is at least one. False for a VPC the
  // cluster does not hold.
  bool VpcSettled(uint32_t cluster, const std::string& vpc) const;
  // Gateways unloaded after leaving their cluster.
  uint64_t unloads() const { return unloads_; }
  // After Stop(): every loop has ended.
  bool finished() const { return loops_ == 0; }

 private:
  struct SentEndpoint {
    std::string vpc;
    std::string network;
    uint64_t fingerprint = 0;
  };
  struct SentVpc {
    gwv1::Vpc vpc;
    std::set<std::string> keys;
    uint64_t acked = 0;  // Gw::acks when the gateway acknowledged it as `vpc` says.
  };
  struct Gw {
    explicit Gw(asio::any_io_executor ex) : wake(ex) {}
    std::string name;
    std::string address;
    uint32_t cluster = 0;
    std::unique_ptr<GatewayClient> client;
    ofconn::Signal wake;
    bool stop = false;
    bool unload = false;  // When its loop ends: it became a spare.
    bool running = false;
    // Observed.
    GatewayObservation obs;
    uint64_t full_loads = 0;
    bool loaded = false;
    std::string instance;
    // Sent (valid while `loaded`).
    std::string sent_cluster;  // Serialized SetClusterRequest.
    std::map<std::string, SentVpc> vpcs;
    absl::flat_hash_map<std::string, SentEndpoint> endpoints;
    // To do.
    bool cluster_dirty = false;
    std::set<std::string> dirty_vpcs;
    std::set<std::string> dirty_endpoints;
    std::map<std::string, std::string> refused;  // Item → the gateway's answer.
    // VPC acknowledgements are numbered; bridge_synced is the last number
    // acknowledged before a GetStats that found its bridge in sync.
    uint64_t acks = 0;
    uint64_t bridge_synced = 0;
    bool stats_soon = false;  // A GetStats before the next change or health interval.
    bool HasDirty() const {
      return cluster_dirty || !dirty_vpcs.empty() || !dirty_endpoints.empty();
    }
  };
  using GwPtr = std::shared_ptr<Gw>;

  asio::awaitable<void> RunMain(std::shared_ptr<bool> alive);
  asio::awaitable<void> RunGateway(GwPtr g);
  asio::awaitable<void> RunPoller();
  asio::awaitable<void> RunWriter();

  void SyncGateways();
  void Dispatch(const std::vector<NbChange>& changes);
  void MarkEndpoint(const std::string& key, uint32_t cluster);
  void Observe(Gw& g, GatewayState state, std::string detail);
  void QueueStatus(const std::string& key, EndpointStatus status);
  void AddPending(const std::string& key, const std::string& host);
  void ErasePending(const std::string& key);
  void ConfirmOnline(const std::string& key, uint64_t fingerprint);
  uint32_t ClusterOfVpc(const std::string& vpc) const;         // The serving cluster.
  bool Holds(const std::string& vpc, uint32_t cluster) const;  // HeldBy, by id.
  bool VpcExists(const std::string& vpc) const;
  // The clusters holding `vpc`: its own, and the one it moves to.
  void AddClustersOfVpc(const std::string& vpc, std::set<uint32_t>& out) const;
  asio::awaitable<void> Sleep(Gw& g, Millis until);

  asio::awaitable<absl::Status> FullLoad(Gw& g);
  // READY if its bridge holds its flows, else LOADING; whether READY.
  bool ObserveLoaded(Gw& g, const GatewayStats& stats);
  asio::awaitable<absl::Status> LoadVpc(Gw& g, std::shared_ptr<const VpcContent> content);
  asio::awaitable<absl::Status> ApplyDirty(Gw& g);
  asio::awaitable<absl::Status> ApplyCluster(Gw& g);
  asio::awaitable<absl::Status> ApplyVpc(Gw& g, std::string id);
  asio::awaitable<absl::Status> ApplyEndpoint(Gw& g, std::string key);
  // Sends the endpoints of `keys` that are new to `g` (their VPC loaded
  // there) in AddEndpoints calls when there are at least kBulkMin of them,
  // and leaves in `keys` those still to apply one by one.
  asio::awaitable<absl::Status> AddNewEndpoints(Gw& g, std::vector<std::string>& keys);
  static constexpr size_t kBulkMin = 16;
  static constexpr size_t kBulkCall = 50000;  // Endpoints per AddEndpoints call.
  // `listed`: every endpoint the gateway held before this load.
  asio::awaitable<absl::Status> RemoveStaleVpcs(Gw& g, const std::vector<ListedEndpoint>& listed);
  void RecordVpc(Gw& g, const VpcContent& content);
  void ForgetVpc(Gw& g, const std::string& id);
  asio::awaitable<void> Unload(Gw& g);
  // A VPC found held on first contact with a known instance: recorded as
  // sent with the endpoints it holds, those that differ from `desired`
  // marked for ApplyDirty.
  void AdoptVpc(Gw& g, const VpcContent& desired, const std::vector<gwv1::Endpoint>& held);
  // Outcome of one item: a transport failure is returned (the caller goes
  // DOWN); a refusal is kept in g.refused and OK returned.
  absl::Status Settle(Gw& g, const std::string& item, const absl::Status& s);

  asio::any_io_executor ex_;
  DriverStore& store_;
  GatewayClientFactory factory_;
  Timers& timers_;
  Options options_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int loops_ = 0;  // Gateway loops, the poller and the writer running.
  bool started_ = false;
  bool stopped_ = false;
  std::map<std::string, GwPtr> gws_;
  // Endpoints the store shows PENDING (key → its host), the same by host
  // (so that the poller skips a host that cannot be polled at once, however
  // many endpoints it holds), and status writes waiting.
  absl::flat_hash_map<std::string, std::string> pending_;
  std::map<std::string, absl::flat_hash_set<std::string>> pending_by_host_;
  absl::flat_hash_map<std::string, EndpointStatus> queued_status_;
  std::map<std::string, GatewayObservation> queued_gateways_;
  bool writing_ = false;
  ofconn::Signal writer_wake_;
  ofconn::Signal poller_wake_;
  std::string poll_cursor_;
  uint64_t unloads_ = 0;  // The last host polled: the next round starts after it.
};

// A fingerprint of a message's content (its serialization), for "was this
// exact content sent" checks.
uint64_t Fingerprint(const google::protobuf::Message& message);

}  // namespace shortcut::manager
