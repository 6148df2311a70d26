// Northbound: the logic of the management plane's API (shortcut.manager.v1)
// over the state of record. Every call reads NbStore::state(), checks the
// request against it (validate.h: the field at fault named, nothing
// written on an error), writes one NbTxn and answers from the state as the
// commit left it. Requests arrive already checked for syntax (the service
// does that on the gRPC thread): names, addresses, ranges.
//
// Waiting for ONLINE: CreateEndpoint and a move (UpdateEndpoint of host)
// write the endpoint with status pending, then wait until the state shows
// it online (the gateway driver writes that once the host confirmed the
// rules), or until `wait` passes: the answer is the endpoint as it is then,
// PENDING included. One store subscription feeds both those waits and the
// WatchEndpoints watchers (a pump coroutine started by Start()).
//
// Dynamic addresses: CreateEndpoint fills an empty ipv4 or mac from the
// network (address_alloc.h), reserving them until its commit is in the
// state so that concurrent creations never pick the same address.
//
// Bulk creation (CreateEndpoints): everything is validated first against
// one snapshot, then written in transactions of at most
// Options::max_txn_endpoints endpoints. A stream that fits one transaction
// is all or nothing by the database's own atomicity; a larger one is
// written in order, and if a later transaction fails (only possible when
// another writer raced us, since all of it was validated), the endpoints
// of the earlier ones are deleted again before the error is returned, so
// the call still leaves nothing behind.
//
// Roles: with a ManagerRole (SetRole), every mutating call of a standby
// answers Unavailable naming the active manager before it looks at its
// request, and its commits are refused the same way; reads are served from
// the replica whatever the role.
//
// Ownership: borrows the store, which must outlive it; it must itself
// outlive every call in flight (stop serving, then destroy). Thread-safety: none;
// every method on the store's executor.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shortcut/manager/v1/manager.pb.h"
#include "src/common/clock.h"
#include "src/manager/address_alloc.h"
#include "src/manager/cluster_controller.h"
#include "src/manager/role.h"
#include "src/manager/store.h"
#include "src/manager/validate.h"

namespace shortcut::manager {

class Northbound {
 public:
  struct Options {
    size_t max_txn_endpoints = 50'000;  // Endpoints per transaction of a bulk creation.
    // The clock of the waits for ONLINE (a call's `wait` counts on it).
    const Clock* clock = &SystemClock::Get();
  };
  // Receives WatchEndpoints events, on the executor. Must not block.
  using EventSink = std::function<void(v1::EndpointEvent)>;

  Northbound(asio::any_io_executor ex, NbStore* store, Options options);
  Northbound(asio::any_io_executor ex, NbStore* store)
      : Northbound(std::move(ex), store, Options{}) {}
  ~Northbound();
  Northbound(const Northbound&) = delete;
  Northbound& operator=(const Northbound&) = delete;

  // Subscribes to the store and starts the pump. Call on the executor.
  void Start();
  // Borrowed; outlives this. Null (the default): always writable.
  void SetRole(const ManagerRole* role) { role_ = role; }

  // This manager's role, the active one's, and its store's connection.
  asio::awaitable<absl::StatusOr<v1::ManagerStatus>> GetManagerStatus();

  asio::awaitable<absl::StatusOr<v1::Host>> RegisterHost(HostRow host);
  asio::awaitable<absl::Status> UnregisterHost(std::string name);
  asio::awaitable<absl::StatusOr<v1::Host>> GetHost(std::string name);
  asio::awaitable<absl::StatusOr<v1::ListHostsResponse>> ListHosts(int32_t size, std::string after);

  asio::awaitable<absl::StatusOr<v1::Gateway>> RegisterGateway(GatewayRow gateway);
  asio::awaitable<absl::Status> UnregisterGateway(std::string name);
  asio::awaitable<absl::StatusOr<v1::Gateway>> GetGateway(std::string name);
  asio::awaitable<absl::StatusOr<v1::ListGatewaysResponse>> ListGateways(int32_t size,
                                                                         std::string after);

  asio::awaitable<absl::StatusOr<v1::Cluster>> CreateCluster(ClusterInput cluster);
  asio::awaitable<absl::Status> DeleteCluster(uint32_t id);
  asio::awaitable<absl::StatusOr<v1::Cluster>> GetCluster(uint32_t id);
  asio::awaitable<absl::StatusOr<v1::ListClustersResponse>> ListClusters(int32_t size,
                                                                         std::string after);
  // add_gw_to_cluster / del_gw_from_cluster by an operator. A member joins
  // as JOINING (SERVING at once in a cluster without VPCs: nothing to
  // load); a removed member is DRAINING (a spare at once in a cluster
  // without VPCs), and cluster management finishes the drain.
  asio::awaitable<absl::StatusOr<v1::Cluster>> AddClusterMember(uint32_t cluster,
                                                                std::string gateway);
  asio::awaitable<absl::StatusOr<v1::Cluster>> RemoveClusterMember(uint32_t cluster,
                                                                   std::string gateway);
  // Cluster management's plan now, applied unless `dry_run`. UNAVAILABLE
  // when no controller is set (cluster management does not run here).
  asio::awaitable<absl::StatusOr<v1::RebalanceResponse>> Rebalance(bool dry_run);
  void SetController(ClusterController* controller) { controller_ = controller; }
  // Called (on the executor) with the seconds from a CreateEndpoint or a
  // move to the endpoint ONLINE, when it came online within the call.
  void SetOnlineHook(std::function<void(double seconds)> hook) { online_hook_ = std::move(hook); }

  asio::awaitable<absl::StatusOr<v1::Vpc>> CreateVpc(VpcInput vpc);
  // The number of endpoints deleted with it.
  asio::awaitable<absl::StatusOr<uint64_t>> DeleteVpc(std::string id);
  asio::awaitable<absl::StatusOr<v1::Vpc>> GetVpc(std::string id);
  // Starts (or cancels) a move: CheckMoveVpc, one write; cluster
  // management carries it out (cluster_controller.h).
  asio::awaitable<absl::StatusOr<v1::Vpc>> MoveVpc(std::string id, uint32_t cluster_id);
  // Sets the VPC's offload policy (CheckUpdateVpc; one write, none when
  // unchanged); the driver tells the gateways of its cluster.
  asio::awaitable<absl::StatusOr<v1::Vpc>> UpdateVpc(std::string id, model::OffloadPolicy offload);
  asio::awaitable<absl::StatusOr<v1::ListVpcsResponse>> ListVpcs(int32_t size, std::string after,
                                                                 uint32_t cluster_id);

  asio::awaitable<absl::StatusOr<v1::Network>> CreateNetwork(NetworkRow network);
  asio::awaitable<absl::StatusOr<uint64_t>> DeleteNetwork(std::string vpc, std::string id);
  asio::awaitable<absl::StatusOr<v1::Network>> GetNetwork(std::string vpc, std::string id);
  asio::awaitable<absl::StatusOr<v1::ListNetworksResponse>> ListNetworks(std::string vpc,
                                                                         int32_t size,
                                                                         std::string after);

  // `wait`: how long to wait for ONLINE (the caller bounds it by its deadline).
  asio::awaitable<absl::StatusOr<v1::Endpoint>> CreateEndpoint(EndpointRow endpoint, Millis wait);
  asio::awaitable<absl::StatusOr<v1::Endpoint>> UpdateEndpoint(EndpointPatch patch, Millis wait);
  asio::awaitable<absl::Status> DeleteEndpoint(std::string key);
  asio::awaitable<absl::StatusOr<v1::Endpoint>> GetEndpoint(std::string key);
  asio::awaitable<absl::StatusOr<v1::ListEndpointsResponse>> ListEndpoints(std::string vpc,
                                                                           std::string host,
                                                                           int32_t size,
                                                                           std::string after);
  asio::awaitable<absl::StatusOr<v1::CreateEndpointsResponse>> CreateEndpoints(
      std::vector<EndpointRow> endpoints);

  // WatchEndpoints: `sink` gets every matching endpoint as EXISTING first
  // (if `initial`), within this call, then each change as the store reports
  // it, until RemoveWatcher. Returns the watcher's id.
  uint64_t AddWatcher(std::string vpc, std::string host, bool initial, EventSink sink);
  void RemoveWatcher(uint64_t id);
  size_t watchers() const;

 private:
  // Writes a VPC row a check produced (none: unchanged) and returns its view.
  asio::awaitable<absl::StatusOr<v1::Vpc>> WriteVpc(std::string id,
                                                    absl::StatusOr<std::optional<VpcRow>> row);
  struct Hub;  // The subscription, the online waiters and the watchers.

  static asio::awaitable<void> Pump(std::shared_ptr<Hub> hub);
  asio::awaitable<void> WaitOnline(std::string key, Millis deadline);
  // The online hook, if `key` is ONLINE now and was not before the call.
  void ObserveOnline(const std::string& key, std::chrono::steady_clock::time_point started,
                     bool was_online);
  asio::awaitable<absl::Status> Commit(NbTxn txn);
  absl::Status Writable() const;

  asio::any_io_executor ex_;
  NbStore* store_;
  ClusterController* controller_ = nullptr;
  Options options_;
  const ManagerRole* role_ = nullptr;
  std::function<void(double)> online_hook_;
  std::shared_ptr<Hub> hub_;
  // Addresses of CreateEndpoint calls between their check and their
  // commit's arrival in the state: a concurrent allocation skips them.
  InFlightAddresses in_flight_;
};

}  // namespace shortcut::manager
