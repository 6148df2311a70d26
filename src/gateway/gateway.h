// The gateway's control module (seed 5.1 and 5.3): the gateway DB, the
// cluster it belongs to, and one HostProgrammer per host it programs. It
// turns API calls into DB changes and host rules:
//   - a VM comes online when its host confirms its rules (UpdateEndpoint
//     returns `online` after the barrier); a VM whose port is not bound yet
//     (no ofport seen through the host's OVSDB) is stored and goes online
//     when BindPort() reports its port;
//   - only the gateway designated for a host (rendezvous hashing of the
//     host's name over the cluster's serving members) programs its standing
//     rules; every gateway may send direct paths. A gateway that stops being
//     designated (a member turned standby, a new member taking the host)
//     stops keeping the host's rules and tunnel ports, so that one writer
//     keeps each host;
//   - a standby member (ClusterMember::standby) holds the cluster's VPCs in
//     its DB and its own bridge, and its tunnel ports with BFD exist on
//     hosts, but it has no bucket in the hosts' group and is designated for
//     no host: it joins (turns serving) with its state loaded and its BFD
//     sessions up;
//   - the group and the standing rules of the cluster are only on hosts
//     that hold a VM of one of its VPCs (seed 3.3): a SetCluster reprograms
//     those hosts only, and a host whose last such VM goes loses them all
//     (the shared table-miss drops stay). The tunnel ports toward the
//     members are on every host of the cluster;
//   - when an endpoint moves or goes, or its host gets a new underlay
//     address (SetCluster), the direct paths toward its old address are
//     deleted on every host of its VPC (non-strict delete on VNI and
//     destination), whoever installed them; DeleteVpc deletes every direct
//     path of the VPC on the hosts that held it. A host that does not
//     confirm its deletes (unreachable, barrier timed out, an error) keeps
//     them queued here, by host, and they are sent again, in one batch,
//     until it confirms: as soon as its OpenFlow session is connected again
//     (looked at every 100 ms), then with a backoff (up to 5 s) while it is
//     connected but fails. The call that asked for them answers
//     Unavailable "... stored but pending: invalidation on host X not
//     confirmed ..." (the change itself is done, as when programming is
//     pending), so that the caller knows a stale direct path may still be
//     in use until then. The queue is in memory (a restarted gateway has
//     lost it) and goes with a host that has no programmer any more.
//     Deletes are idempotent; one sent late may also take a path set up
//     meanwhile toward the same address, which its next packet-in sets up
//     again;
//   - a standby VPC (Vpc::standby, SetVpcStandby) is held but not served:
//     a VPC moving to this cluster from another one, loaded before it takes
//     over. Its endpoints are in the DB and the gateway's bridge, but no
//     host is programmed, armed or invalidated for it (the serving cluster
//     keeps its hosts): RulesFor leaves it and its VMs out, and a host
//     holding only standby VPCs of the cluster holds no group of it. When
//     it turns served, its hosts get its rules with this cluster's cookie,
//     whose adds replace the old cluster's flows of the same match and
//     priority; the old cluster's later deletes are cookie-scoped and miss
//     them.
// Bucket ports: a host reaches each member (standby ones included) through
// a tunnel port of its own at the member's tunnel_ofport (assigned by the
// management plane, unique across clusters), or, when no member has one, at
// kGatewayOfportBase + i (all members in name order, whatever their role,
// so that a bucket's port does not change when a member changes role); the
// group's buckets name the serving members' ports only. Several clusters may
// serve VPCs on one host: each keeps only its own part of it (its cookie
// space, its group, its tunnel ports, tagged external_ids
// shortcut-cluster=<cluster id>).
//
// Thread-safety: none; everything runs on the executor given at
// construction (the gRPC layer posts its calls there).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "src/common/clock.h"
#include "src/gateway/gateway_bridge.h"
#include "src/gateway/gateway_db.h"
#include "src/gateway/host_programmer.h"
#include "src/gateway/node_ovsdb.h"
#include "src/host/tunnel_ports.h"

namespace shortcut::gateway {

inline constexpr uint32_t kGatewayOfportBase = 60001;

inline constexpr uint32_t kGatewayOfportMax = 65279;

struct ClusterMember {
  std::string name;
  std::string underlay_ipv4;
  // Its tunnel port's ofport on hosts; 0: kGatewayOfportBase + i.
  uint32_t tunnel_ofport = 0;
  // Holds (or loads) the cluster's state but takes no traffic: no bucket,
  // designated for no host; its tunnel ports exist all the same.
  bool standby = false;
  friend bool operator==(const ClusterMember&, const ClusterMember&) = default;
};

struct ClusterConfig {
  // The select group's id on hosts and part of the standing rules' cookies;
  // 1 .. 65535 (pipeline::kMaxClusterId).
  uint32_t cluster_id = 0;
  std::string self;  // This gateway's name among `members`.
  std::vector<ClusterMember> members;
  std::vector<Host> hosts;
  friend bool operator==(const ClusterConfig&, const ClusterConfig&) = default;
};

// What SetCluster accepts: cluster_id in 1..65535, self among the members,
// members named once with IPv4 underlays, tunnel_ofport set in all members
// or none, in 60001..65279 and unique (any mix of serving and standby
// members: self may be standby, all may be), hosts named once with IPv4
// underlays and valid OpenFlow and OVSDB targets. InvalidArgument
// (AlreadyExists for a member or host listed twice) naming the field. Also
// used to check a daemon's config file.
absl::Status CheckClusterConfig(const ClusterConfig& config);

// The member designated for `host`: the serving (non-standby) member with
// the highest rendezvous score. Empty if no member serves.
std::string DesignatedMember(const std::string& host, const std::vector<ClusterMember>& members);

// The ofports of the members' tunnel ports on hosts, all members (standby
// included) in name order: each member's tunnel_ofport, or
// kGatewayOfportBase + i when none is set.
std::vector<uint32_t> MemberOfports(std::vector<ClusterMember> members);
// The ports the hosts' select group buckets name: those of MemberOfports
// that belong to serving members, in the same order.
std::vector<uint32_t> BucketOfports(std::vector<ClusterMember> members);
// The value of external_ids:shortcut-cluster on the tunnel ports a
// cluster's designated gateway keeps on a host.
std::string ClusterTag(uint32_t cluster_id);

// The gateway tunnel ports (with BFD) NodeOvsdb keeps: on every compute
// host, one toward each member (standby included, so that BFD is up before
// it serves) at its MemberOfports() ofport; on each
// gateway's own OVS, one toward each host, at an ofport OVS chooses.
// InvalidArgument for an address that is not IPv4.
absl::StatusOr<std::vector<host::TunnelPort>> TunnelPortsOnHost(std::vector<ClusterMember> members);
absl::StatusOr<std::vector<host::TunnelPort>> TunnelPortsOnGateway(const std::vector<Host>& hosts);

class Gateway {
 public:
  struct Options {
    ofconn::Session::Options session;  // Toward hosts.
    Millis host_timeout = 5000;        // Per host sync or barrier.
    uint16_t direct_idle_timeout_s = 60;
    // Loaded by a manager (gatewayd without a cluster in its config): hosts
    // keep the rules this gateway has not decided about until
    // CompleteLoad(). False: whole from the start, as a gateway given its
    // state directly.
    bool wait_for_load = false;
    // Time for the host programmers (call deadlines, reconnect backoff) and
    // the gateway's own waits (finishing a load, resending invalidations).
    const Clock* clock = &SystemClock::Get();
  };
  struct EndpointResult {
    EndpointUpdate update;
    bool online = false;  // Its rules are confirmed on its host.
  };
  struct Counters {
    uint64_t invalidations = 0;         // Direct-path deletes sent to hosts.
    uint64_t invalidations_queued = 0;  // Of those, not confirmed by their host: queued.
    uint64_t invalidations_resent = 0;  // Queued deletes confirmed by a later send.
  };

  Gateway(asio::any_io_executor ex, Options options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Validates the whole config first (CheckClusterConfig).
  asio::awaitable<absl::Status> SetCluster(ClusterConfig config);
  // The manager sent everything (see Options::wait_for_load): every
  // designated host is programmed with exactly what this gateway holds,
  // each as soon as its OVSDB bindings are read. Returns once the hosts
  // whose bindings are read confirmed; the first error, if any.
  asio::awaitable<absl::Status> CompleteLoad();
  bool loaded() const { return loaded_; }
  absl::Status AddVpc(const Vpc& vpc, const std::vector<Network>& networks);
  // A host that cannot confirm the rules (unreachable: Unavailable) gives
  // an error, but the endpoint is stored and pending: its rules go in when
  // the host comes back. So does a host that did not confirm the deletes
  // of the direct paths a move or readdress made stale (Unavailable
  // "endpoint K is stored but pending: invalidation on host X not
  // confirmed ..."): they are queued for it.
  asio::awaitable<absl::StatusOr<EndpointResult>> UpdateEndpoint(Endpoint endpoint);
  // Of a standby VPC, UpdateEndpoint, DeleteEndpoint and DeleteNetwork
  // change the DB and the bridge only: no host is programmed, no direct
  // path deleted, and UpdateEndpoint answers online=false.
  // DeleteEndpoint, DeleteVpc and DeleteNetwork answer Unavailable "the
  // deletion of ... is stored but pending: invalidation on host X not
  // confirmed ..." when a host did not confirm its direct-path deletes
  // (queued for it); the deletion itself is done.
  asio::awaitable<absl::Status> DeleteEndpoint(std::string key);
  // Removes a VPC and its endpoints (returns how many); the hosts that held
  // it are programmed again without it and, unless `keep_direct_paths` (the
  // VPC moved to another cluster with its endpoints unchanged, so its
  // direct paths stay valid), every direct path of the VPC is deleted on
  // them. A standby VPC goes from the DB and the bridge only.
  asio::awaitable<absl::StatusOr<size_t>> DeleteVpc(std::string id, bool keep_direct_paths = false);
  // Removes a network and its endpoints (returns how many): the direct
  // paths toward each of them are deleted on every host still holding the
  // VPC, and the hosts they lived on are programmed again.
  asio::awaitable<absl::StatusOr<size_t>> DeleteNetwork(std::string vpc, std::string network);
  // A whole VPC at once (the AddVpc stream): the VPC and its networks, then
  // its endpoints (each must name this VPC) in one GatewayDb::AddEndpoints,
  // all or nothing (the VPC is deleted again if the endpoints are refused);
  // then every designated host holding the VPC is programmed (none for a
  // standby VPC). As with UpdateEndpoint, a host that cannot confirm gives
  // an error while the VPC stays stored and pending.
  asio::awaitable<absl::Status> LoadVpc(Vpc vpc, std::vector<Network> networks,
                                        std::vector<Endpoint> endpoints);
  // Serves a standby VPC (false) or stops serving it (true): every
  // designated host holding a VM of it is armed and programmed, each in one
  // bundle (its group if the host did not hold it yet, the VPC's and VMs'
  // flows; or their removal), and the call returns once they confirmed. A
  // host that cannot confirm gives an error (Unavailable: stored but
  // pending), the flag changed all the same. The same value again changes
  // and sends nothing. NotFound for an unknown VPC.
  asio::awaitable<absl::Status> SetVpcStandby(std::string vpc, bool standby);
  // The VPC's offload policy (model::ValidateOffload: InvalidArgument;
  // NotFound for an unknown VPC). Leaving `threshold`, the VPC's counting
  // flows go from the gateway's bridge, so its flows come back to the
  // forwarder and get their direct paths.
  absl::Status SetVpcOffload(const std::string& vpc, const model::OffloadPolicy& policy);
  // The policy of the VPC of `vni`; nullopt: no such VPC.
  std::optional<model::OffloadPolicy> OffloadOf(uint32_t vni) const;
  // Smallest window among the VPCs with a threshold policy; 0: none.
  uint32_t MinThresholdWindowMs() const;
  // More endpoints of existing VPCs, all or nothing (GatewayDb::AddEndpoints);
  // then their hosts are programmed (pending on error, as UpdateEndpoint),
  // those of standby VPCs' endpoints excepted.
  asio::awaitable<absl::Status> AddEndpoints(std::vector<Endpoint> endpoints);
  // The gateway's own data plane: every VPC and endpoint of the DB is put
  // into it now and follows every change from now on.
  void AttachBridge(std::shared_ptr<GatewayBridge> bridge);
  // The gateway's own OVSDB: tunnel ports (with BFD) toward every host.
  void AttachOwnNode(ofconn::Target ovsdb);
  // What the host's OVSDB says about the port of `iface_id` (nullopt: gone).
  asio::awaitable<absl::Status> BindPort(std::string host, std::string iface_id,
                                         std::optional<uint32_t> ofport);

  const GatewayDb& db() const { return db_; }
  const ClusterConfig& cluster() const { return cluster_; }
  bool Designated(const std::string& host) const;
  // The rules the designated gateway keeps on `host`: its served VPCs and
  // their bound VMs (standby VPCs left out).
  pipeline::HostRules RulesFor(const std::string& host) const;
  HostProgrammer* programmer(const std::string& host);
  const HostProgrammer* programmer(const std::string& host) const;
  // The ofport BindPort() reported for (host, iface_id); nullopt: not bound.
  std::optional<uint32_t> BoundPort(const std::string& host, const std::string& iface_id) const;
  const Counters& counters() const { return counters_; }
  // Direct-path deletes queued for `host`, not confirmed by it yet.
  size_t PendingInvalidations(const std::string& host) const;
  const GatewayBridge* bridge() const { return bridge_.get(); }
  GatewayBridge* bridge() { return bridge_.get(); }
  // The OVSDB side of `host` (nullptr: no OVSDB target), and of this gateway.
  const NodeOvsdb* node(const std::string& host) const {
    auto it = nodes_.find(host);
    return it == nodes_.end() ? nullptr : it->second.get();
  }
  const NodeOvsdb* own_node() const { return own_node_.get(); }
  const Options& options() const { return options_; }
  // Bumped by every SetCluster (hosts and their programmers may change).
  uint64_t cluster_version() const { return cluster_version_; }
  // 64 random bits in hex, chosen at construction: a gateway restarted (with
  // an empty DB) shows a new one.
  const std::string& instance_id() const { return instance_id_; }

 private:
  // Brings `host`'s standing rules up to date (designated hosts only, and
  // only hosts armed by a change of their endpoints since start).
  asio::awaitable<absl::Status> ProgramChanged(const std::string& host);  // Arms it first.
  asio::awaitable<absl::Status> Program(const std::string& host);
  // Program() on every host at once (arming them first if `arm`); the first
  // error, if any.
  asio::awaitable<absl::Status> ProgramAll(std::vector<std::string> hosts, bool arm);
  // The cluster's hosts that hold a VM of one of its served (non-standby)
  // VPCs: the only ones the group's buckets matter to.
  std::vector<std::string> HostsConcerned() const;
  // The VPC is known and standby.
  bool Standby(std::string_view vpc) const;
  // Hosts this gateway is no longer designated for: their programmers stop
  // keeping the rules (another member programs them now).
  void ReleaseUndesignated();
  // Whether `host`'s programmer may delete what it has not decided about:
  // loaded, and the host's port bindings read (else its VMs would look
  // unbound and lose their rules).
  bool HostWhole(const std::string& host) const;
  // Sets every programmer's keep-unknown from HostWhole; the hosts it
  // turned whole.
  std::vector<std::string> RefreshKeepUnknown();
  // After CompleteLoad: programs each host whose bindings were not read
  // yet once they are.
  asio::awaitable<void> FinishLoad(std::shared_ptr<bool> alive);
  // Starts FinishLoad unless it runs or no host waits.
  void WatchUntilWhole();
  // Deletes direct paths toward (vni, ipv4) on every host that holds `vpc`
  // (nothing for a standby VPC). Unavailable naming the hosts that did not
  // confirm: their deletes are queued (Requeue).
  asio::awaitable<absl::Status> Invalidate(const std::string& vpc, uint32_t vni, Ipv4 ipv4);
  // The same for many destinations: one batch of flow_mods per host.
  asio::awaitable<absl::Status> InvalidateAll(const std::string& vpc, uint32_t vni,
                                              std::vector<Ipv4> ips);
  // Direct-path deletes for one host: toward single destinations, and
  // every path of whole VNIs.
  struct DirectPathDeletes {
    std::set<std::pair<uint32_t, Ipv4>> paths;  // (VNI, destination).
    std::set<uint32_t> vnis;
    bool empty() const { return paths.empty() && vnis.empty(); }
    std::vector<of::FlowMod> FlowMods() const;
  };
  // Sends `deletes` to every host of `hosts` at once, each in one batch;
  // the hosts that do not confirm get them queued, and are named in the
  // Unavailable returned.
  asio::awaitable<absl::Status> SendDeletes(const std::vector<std::string>& hosts,
                                            const DirectPathDeletes& deletes);
  // Queues deletes `host` did not confirm; a Redeliver loop sends them
  // until it does.
  void Requeue(const std::string& host, const DirectPathDeletes& deletes);
  asio::awaitable<void> Redeliver(std::string host, std::shared_ptr<bool> alive);
  // "<what> is stored but pending: <why>", Unavailable, for a change done
  // whose invalidation a host did not confirm.
  static absl::Status StoredButPending(const std::string& what, const absl::Status& why);
  // The addresses of `host`'s endpoints, by VPC: what direct paths point at
  // through the host's underlay.
  struct VpcAddresses {
    std::string vpc;
    uint32_t vni = 0;
    std::vector<Ipv4> ips;
  };
  std::vector<VpcAddresses> AddressesOnHost(const std::string& host) const;

  // One NodeOvsdb per host with an OVSDB target; each reports bindings to
  // OnBind. Tunnel ports: kept on the hosts this gateway is designated
  // for, released on the others.
  void StartNodes();
  void UpdateTunnelPorts();
  asio::awaitable<void> OnBind(std::string host, std::string iface_id,
                               std::optional<uint32_t> ofport);
  // Records (or, nullopt, forgets) a port binding; whether it changed.
  bool SetPort(const std::string& host, const std::string& iface_id,
               std::optional<uint32_t> ofport);
  // The bridge follows the DB.
  void MirrorEndpoints(const std::vector<Endpoint>& endpoints);
  void MirrorHost(const std::string& host);
  void MirrorRemoval(const Removal& removal, bool vpc_gone);

  asio::any_io_executor ex_;
  Options options_;
  GatewayDb db_;
  std::shared_ptr<GatewayBridge> bridge_;
  // VNI → offload policy of the VPCs whose policy is not the default.
  absl::flat_hash_map<uint32_t, model::OffloadPolicy> offload_;
  std::map<std::string, std::shared_ptr<NodeOvsdb>> nodes_;  // By host name.
  std::shared_ptr<NodeOvsdb> own_node_;
  ClusterConfig cluster_;
  std::map<std::string, std::shared_ptr<HostProgrammer>> programmers_;  // By host name.
  // Host → iface-id → ofport, as the hosts' OVSDB report them. By host
  // first: RulesFor looks up every endpoint of one host.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, uint32_t>> ports_;
  Counters counters_;
  uint64_t cluster_version_ = 0;
  // The last SetCluster programmed every host: the same config again
  // (a manager taking over, a resend) changes nothing and is not redone.
  bool cluster_programmed_ = false;
  std::string instance_id_;
  // Hosts whose endpoints changed since start (ProgramChanged): the only
  // ones programmed.
  std::set<std::string> armed_;
  bool loaded_ = true;      // !Options::wait_for_load until CompleteLoad.
  bool finishing_ = false;  // A FinishLoad loop runs.
  // Direct-path deletes hosts did not confirm, by host name; a Redeliver
  // loop runs for each host here.
  std::map<std::string, DirectPathDeletes> pending_deletes_;
  // False once the Gateway is gone: Redeliver loops still waiting end
  // without touching it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shortcut::gateway
