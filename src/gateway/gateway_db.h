// The gateway DB (seed 004, section 5: the gateway_DB module): every
// endpoint (VM) of the VPCs a gateway cluster serves, with its VPC, network,
// addresses and the host it lives on, plus the hosts and VPCs themselves.
//
// It answers three kinds of question:
//  - the packet path, at packet-in time: "in the VPC known by VNI v, where is
//    IPv4 x?" (LookupByVniIp, LookupBatch), the hot path: one linear probe
//    of the (VNI, IPv4) index, whose slots carry the VNI and the endpoint's
//    host, and a read of a small dense array of host underlays
//    (cache-resident): one cache miss, no record read;
//  - host programming: which hosts hold a VPC (a host holds a VPC while at
//    least one endpoint of it lives there), which VPCs a host holds, the
//    endpoints of a host, of a network, of a VPC;
//  - invalidation: every mutation says what it changed (an endpoint moved,
//    was readdressed or removed; a host stopped holding a VPC), so the caller
//    knows which direct paths to delete or rewrite.
//
// Mutations mirror the management plane's RPCs (seed 5.1: gw_update_endpoint,
// gw_delete_endpoint, gw_add_vpc, gw_delete_vpc, gw_delete_network) and are
// all-or-nothing: input is validated before anything changes, and an error
// (an absl::Status whose code maps to gRPC, whose message names the object
// and field) leaves the DB exactly as it was.
//
// Rules:
//  - a VNI is 24 bits and not 0 (metadata 0 means "no VPC" in the host
//    pipeline); VPC ids and VNIs are unique;
//  - network ids are unique in their VPC and their CIDRs (host bits zero) do
//    not overlap; an endpoint's IPv4 (and IPv6, if any) lies in its network;
//  - an endpoint key is unique in the DB; IPv4, IPv6 and MAC are unique in
//    the VPC; MACs are unicast; keys and iface ids are at most 255 bytes;
//  - an endpoint never changes VPC (FailedPrecondition: delete it first);
//  - deleting a VPC or a network deletes its endpoints (seed: "delete the
//    rules of all endpoints belonging to the network") and returns them;
//  - a host cannot be deleted while endpoints live on it (FailedPrecondition).
//
// Memory layout (the target is 10M endpoints in 1 GB): an endpoint is a
// 48-byte POD record in a dense array (blocks of 128k), its VPC, network and host interned
// as uint32 indexes, IPv4 as uint32, MAC as 6 bytes, list links for its host
// and its network. Key and iface id live in a byte arena (length-prefixed; an
// iface id equal to the key is stored once); IPv6 addresses in a side table
// (most endpoints have none). The indexes by key and by (VPC, MAC) are
// absl::flat_hash_set<uint32_t> of record slots whose hash and equality read
// the record, so each costs 5 bytes per slot of capacity instead of 16 for a
// (uint64 → uint32) map. The (VNI, IPv4) index, the packet path's, is a
// dedicated linear-probing table of 16-byte (IPv4, VNI, host, record slot)
// entries. Freed slots are reused; the arena (blocks of 4 MB, so growing
// never copies it) is compacted when more than half of it is garbage.
//
// Ownership: the DB owns everything it stores; callers pass values in and get
// copies (Removal, EndpointUpdate) or views back. Views (EndpointView,
// PathTarget, HostView, VpcView: their string_views) are valid until the next
// mutation of the DB.
//
// Thread-safety: none. A GatewayDb belongs to one owner thread, which does
// all lookups and mutations. It is neither copyable nor movable (its indexes
// hold a pointer back to it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/gateway/string_arena.h"
#include "src/model/address.h"
#include "src/model/types.h"

namespace shortcut::gateway {

// Addresses and input values are the model's (src/model), shared with the
// management plane.
using model::FormatCidr;
using model::FormatIpv4;
using model::FormatIpv6;
using model::FormatMac;
using model::Ipv4;
using model::Ipv4Cidr;
using model::Ipv6;
using model::Ipv6Cidr;
using model::Mac;
using model::ParseIpv4;
using model::ParseIpv4Cidr;
using model::ParseIpv6;
using model::ParseIpv6Cidr;
using model::ParseMac;
using model::ValidTargetText;

// ---- Inputs: what the management plane sends, as text. ----
using model::Endpoint;
using model::Host;
using model::Network;
using model::Vpc;

// ---- Outputs. ----

// An endpoint's slot: stable while the endpoint lives; a deleted endpoint's
// id may be reused by a later one.
using EndpointId = uint32_t;

// The packet path's answer: where to send a packet for this endpoint. All
// of it comes from the index slot; View(id) has the rest.
struct PathTarget {
  EndpointId id = 0;
  Ipv4 host_underlay = 0;  // tun_dst.
};

// A packet path question: IPv4 `ip` in the VPC whose VNI is `vni`.
struct VniIp {
  uint32_t vni = 0;
  Ipv4 ip = 0;
};

// An endpoint as stored. string_views are valid until the next mutation.
struct EndpointView {
  EndpointId id = 0;
  std::string_view key;
  std::string_view vpc;
  uint32_t vni = 0;
  std::string_view network;
  Ipv4 ipv4 = 0;
  std::optional<Ipv6> ipv6;
  Mac mac{};
  std::string_view host;
  Ipv4 host_underlay = 0;
  std::string_view iface_id;
};

struct HostView {
  std::string_view name;
  Ipv4 underlay = 0;
  std::string_view openflow_target;
  std::string_view ovsdb_target;
  size_t endpoints = 0;
  size_t vpcs = 0;  // VPCs it holds.
};

struct VpcView {
  std::string_view id;
  uint32_t vni = 0;
  Mac router_mac{};
  bool standby = false;  // Held but not served: no host is programmed for it.
  size_t networks = 0;
  size_t endpoints = 0;
  size_t hosts = 0;  // Hosts holding it.
};

// One host holding a VPC (or one VPC held by a host) and how many of the
// VPC's endpoints live there.
struct Holding {
  std::string_view name;  // Host name (HostsOfVpc) or VPC id (VpcsOfHost).
  uint32_t vni = 0;       // VpcsOfHost only.
  size_t endpoints = 0;
  bool standby = false;  // VpcsOfHost only: the VPC is held but not served.
};

// An endpoint that was removed, with what invalidation needs. Owning copies.
struct RemovedEndpoint {
  std::string key;
  std::string network;
  Ipv4 ipv4 = 0;
  std::optional<Ipv6> ipv6;
  Mac mac{};
  std::string host;
};

// What a delete removed: the endpoints (all of one VPC), and the hosts that
// no longer hold the VPC (their per-VPC rules can go), sorted by name.
struct Removal {
  std::string vpc;
  uint32_t vni = 0;
  std::vector<RemovedEndpoint> endpoints;
  std::vector<std::string> released_hosts;
};

// What UpdateEndpoint did. Unchanged: !created && !changed.
struct EndpointUpdate {
  bool created = false;      // A new endpoint.
  bool changed = false;      // An existing endpoint changed in any field.
  bool moved = false;        // Its host changed: old_host.
  bool readdressed = false;  // Its IPv4, IPv6 or MAC changed: old_ipv4, old_ipv6, old_mac.
  // The previous values (meaningful when !created).
  std::string old_host;
  Ipv4 old_ipv4 = 0;
  std::optional<Ipv6> old_ipv6;
  Mac old_mac{};
  // Host-of-VPC transitions: the (new) host started holding the VPC; the old
  // host (on a move) stopped holding it.
  bool host_gained_vpc = false;
  bool old_host_released_vpc = false;
};

struct HostUpdate {
  bool created = false;
  bool underlay_changed = false;  // Direct paths to its endpoints need rewriting.
  bool targets_changed = false;
};

struct Stats {
  size_t hosts = 0;
  size_t vpcs = 0;
  size_t networks = 0;
  size_t endpoints = 0;
  size_t endpoints_ipv6 = 0;
  bool operator==(const Stats&) const = default;
};

// Bytes held by each structure (capacity, not size), for the memory budget.
struct MemoryUsage {
  size_t records = 0;          // Endpoint records.
  size_t strings = 0;          // Key and iface id arena.
  size_t key_index = 0;        // By key.
  size_t ip_index = 0;         // By (VNI, IPv4): the packet path's index.
  size_t mac_index = 0;        // By (VPC, MAC).
  size_t ipv6 = 0;             // IPv6 side table and its index.
  size_t hosts_vpcs = 0;       // Hosts, VPCs, networks (approximate).
  size_t strings_garbage = 0;  // Of `strings`: freed strings awaiting compaction.
  size_t Total() const {
    return records + strings + key_index + ip_index + mac_index + ipv6 + hosts_vpcs;
  }
};

// Allocator for the DB's large arrays: an allocation of 2 MB or more is
// 2 MB-aligned and advised as transparent huge pages (MADV_HUGEPAGE), so
// random lookups over a 10M set miss the TLB far less (on a KVM guest a TLB
// miss is a two-dimensional page walk). Smaller ones use operator new.
void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);
template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: rebinding.
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

class GatewayDb {
 public:
  GatewayDb();
  GatewayDb(const GatewayDb&) = delete;
  GatewayDb& operator=(const GatewayDb&) = delete;

  // ---- Hosts. ----
  // Insert or update. InvalidArgument: empty name, malformed underlay or target.
  absl::StatusOr<HostUpdate> UpsertHost(const Host& host);
  // NotFound; FailedPrecondition while endpoints live on it.
  absl::Status DeleteHost(std::string_view name);

  // ---- VPCs and networks. ----
  // InvalidArgument: malformed VNI, MAC or CIDR, overlapping networks.
  // AlreadyExists: id or VNI taken, a network id twice.
  absl::Status AddVpc(const Vpc& vpc, const std::vector<Network>& networks);
  // Removes the VPC, its networks and endpoints. NotFound.
  absl::StatusOr<Removal> DeleteVpc(std::string_view id);
  // Marks the VPC held but not served (standby), or served; a VPC takes the
  // flag from Vpc::standby when added. Returns whether it changed. NotFound.
  absl::StatusOr<bool> SetVpcStandby(std::string_view id, bool standby);
  // NotFound (VPC), AlreadyExists (id), InvalidArgument (CIDR, overlap).
  absl::Status AddNetwork(std::string_view vpc, const Network& network);
  // Removes the network and its endpoints. NotFound.
  absl::StatusOr<Removal> DeleteNetwork(std::string_view vpc, std::string_view network);

  // ---- Endpoints. ----
  // Insert or update (gw_update_endpoint).
  absl::StatusOr<EndpointUpdate> UpdateEndpoint(const Endpoint& endpoint);
  // NotFound.
  absl::StatusOr<Removal> DeleteEndpoint(std::string_view key);
  // Inserts a batch of new endpoints, all or none (a large VPC arrives as a
  // stream of such batches). Every key must be new, and every address unique
  // against the DB and the rest of the batch; the first failure is reported
  // as "endpoints[i]: ...". References and syntax are checked before any
  // change; uniqueness is checked while inserting, and on a conflict the
  // inserted prefix is taken out again, so the DB is as before.
  absl::Status AddEndpoints(const std::vector<Endpoint>& endpoints);

  // ---- Lookups. ----
  // The packet path: the endpoint with this IPv4 in the VPC with this VNI.
  // Inline: a lookup is a few dozen instructions around one miss, and the
  // fewer they are, the more lookups the core overlaps (out of line, the
  // call and the spill of the result made it 16.4M/s instead of 18.4M/s).
  std::optional<PathTarget> LookupByVniIp(uint32_t vni, Ipv4 ip) const {
    const IpIndex::Slot* s = by_ip_.Find(vni, ip);
    if (s == nullptr) return std::nullopt;
    return PathTarget{s->id, host_underlay_[s->host]};
  }
  // The same for a burst, with the index lines of a chunk prefetched
  // together so their misses overlap: out[i] answers keys[i]. `out` must
  // have n elements.
  void LookupBatch(const VniIp* keys, size_t n, std::optional<PathTarget>* out) const;

  std::optional<EndpointView> FindEndpoint(std::string_view key) const;
  std::optional<EndpointView> FindByIpv4(std::string_view vpc, Ipv4 ip) const;
  std::optional<EndpointView> FindByIpv6(std::string_view vpc, const Ipv6& ip) const;
  std::optional<EndpointView> FindByMac(std::string_view vpc, const Mac& mac) const;
  // REQUIRES: `id` is a live endpoint (from a lookup since the last mutation).
  EndpointView View(EndpointId id) const;

  std::optional<HostView> FindHost(std::string_view name) const;
  std::optional<VpcView> FindVpc(std::string_view id) const;
  std::optional<VpcView> FindVpcByVni(uint32_t vni) const;

  // Every endpoint, in slot order (listings). The callback must not mutate
  // the DB.
  void ForEachEndpoint(absl::FunctionRef<void(const EndpointView&)> fn) const;
  void ForEachVpc(absl::FunctionRef<void(const VpcView&)> fn) const;
  // Iteration; NotFound for an unknown host, VPC or network. The callback
  // must not mutate the DB. Order is unspecified.
  absl::Status ForEachEndpointOfHost(std::string_view host,
                                     absl::FunctionRef<void(const EndpointView&)> fn) const;
  absl::Status ForEachEndpointOfVpc(std::string_view vpc,
                                    absl::FunctionRef<void(const EndpointView&)> fn) const;
  absl::Status ForEachEndpointOfNetwork(std::string_view vpc, std::string_view network,
                                        absl::FunctionRef<void(const EndpointView&)> fn) const;
  // Sorted by host name / VPC id.
  absl::StatusOr<std::vector<Holding>> HostsOfVpc(std::string_view vpc) const;
  absl::StatusOr<std::vector<Holding>> VpcsOfHost(std::string_view host) const;

  Stats GetStats() const;
  MemoryUsage GetMemoryUsage() const;

  // Checks every index and list against the records (O(size)); for tests.
  absl::Status CheckConsistency() const;

 private:
  static constexpr uint32_t kNone = 0xffffffffu;

  // One endpoint, 48 bytes. A free slot has vpc == kNone and its next free
  // slot in net_next.
  struct Record {
    // What the packet path reads comes first: records are 48 bytes apart
    // from a 2 MB-aligned base, so the first 16 bytes of a record never
    // straddle a cache line and a lookup costs one line of the record.
    uint32_t host = kNone;
    uint32_t iface = kNone;  // Arena offset of the iface id; kNone: empty.
    Mac mac{};
    uint8_t flags = 0;      // kHasIpv6.
    uint8_t iface_len = 0;  // Length of the iface id, so a lookup need not read the arena.
    uint32_t key = kNone;   // Arena offset of the key.
    uint32_t vpc = kNone;
    uint32_t network = kNone;
    Ipv4 ipv4 = 0;
    uint32_t host_prev = kNone;  // Doubly linked lists of a host's and a
    uint32_t host_next = kNone;  // network's endpoints (O(1) unlink, no
    uint32_t net_prev = kNone;   // per-list allocation).
    uint32_t net_next = kNone;
  };
  static constexpr uint8_t kHasIpv6 = 1;

  struct HostRec {
    std::string name;  // Empty: free entry.
    Ipv4 underlay = 0;
    std::string openflow_target;
    std::string ovsdb_target;
    uint32_t head = kNone;  // First endpoint.
    size_t endpoints = 0;
    absl::flat_hash_map<uint32_t, uint32_t> vpcs;  // VPC index → endpoints here.
  };
  struct VpcRec {
    std::string id;  // Empty: free entry.
    uint32_t vni = 0;
    Mac router_mac{};
    bool standby = false;
    absl::flat_hash_map<std::string, uint32_t> networks;  // Id → network index.
    size_t endpoints = 0;
    absl::flat_hash_map<uint32_t, uint32_t> hosts;  // Host index → endpoints there.
  };
  struct NetRec {
    std::string id;  // Empty: free entry.
    uint32_t vpc = kNone;
    Ipv4Cidr v4;
    std::optional<Ipv6Cidr> v6;
    uint32_t head = kNone;
    size_t endpoints = 0;
  };

  // Index functors: elements are record slots; lookups use the key types
  // below (heterogeneous lookup), and hashes of a slot and of its key agree.
  struct StrKey {
    std::string_view s;
  };
  struct MacKey {
    uint32_t vpc;
    uint64_t mac;  // The 6 bytes, big-endian, in the low 48 bits.
  };
  struct KeyHash {
    using is_transparent = void;
    const GatewayDb* db;
    size_t operator()(uint32_t slot) const;
    size_t operator()(StrKey k) const;
  };
  struct KeyEq {
    using is_transparent = void;
    const GatewayDb* db;
    bool operator()(uint32_t a, uint32_t b) const;  // By content.
    bool operator()(uint32_t a, StrKey b) const;
    bool operator()(StrKey a, uint32_t b) const { return (*this)(b, a); }
  };
  struct MacHash {
    using is_transparent = void;
    const GatewayDb* db;
    size_t operator()(uint32_t slot) const;
    size_t operator()(MacKey k) const;
  };
  struct MacEq {
    using is_transparent = void;
    const GatewayDb* db;
    bool operator()(uint32_t a, uint32_t b) const;  // By content.
    bool operator()(uint32_t a, MacKey b) const;
    bool operator()(MacKey a, uint32_t b) const { return (*this)(b, a); }
  };
  struct V6Key {
    uint32_t vpc;
    Ipv6 ip;
    bool operator==(const V6Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const V6Key& k) {
      return H::combine(std::move(h), k.vpc, k.ip);
    }
  };

  // An endpoint validated and resolved, not yet stored.
  struct Prepared {
    const Endpoint* in;
    uint32_t vpc;
    uint32_t network;
    uint32_t host;
    Ipv4 ipv4;
    Mac mac;
    bool has_ipv6;
    Ipv6 ipv6;
  };
  // Which index refused an insert.
  enum class Conflict { kNone, kKey, kIpv4, kIpv6, kMac };

  absl::StatusOr<Prepared> Prepare(const Endpoint& e) const;
  absl::Status ConflictError(const Prepared& p, Conflict c, uint32_t other) const;
  // Stores a prepared endpoint in a new slot and indexes it; on a conflict
  // nothing stays and `conflict`/`other` say which index and which slot.
  // `gained`: its host started holding its VPC. Returns the slot, or kNone.
  uint32_t Insert(const Prepared& p, Conflict* conflict, uint32_t* other, bool* gained);
  // Takes a live endpoint out of every index and list and frees its slot.
  // Returns whether its host stopped holding its VPC. `rollback`: undoing a
  // just-made insert (AddEndpoints): the slot goes back exactly where it was
  // taken from, and its strings are left for the caller to truncate.
  bool Erase(uint32_t slot, bool rollback = false);
  bool Link(uint32_t slot);    // Host/network lists and counts; true: host gained the VPC.
  bool Unlink(uint32_t slot);  // The reverse; true: host released the VPC.
  RemovedEndpoint Removed(uint32_t slot) const;
  // Removes a set of endpoints of one VPC (DeleteVpc, DeleteNetwork).
  Removal RemoveNetworkEndpoints(uint32_t network, Removal removal);

  uint32_t AppendString(std::string_view s);
  std::string_view Str(uint32_t ref) const;
  void ReleaseString(uint32_t ref);
  void MaybeCompactStrings();

  std::optional<uint32_t> FindVpcIndex(std::string_view id) const;
  std::optional<uint32_t> FindHostIndex(std::string_view name) const;
  std::optional<uint32_t> FindSlotByKey(std::string_view key) const;
  std::optional<EndpointView> ViewOf(std::optional<uint32_t> slot) const;
  VpcView VpcViewOf(const VpcRec& v) const;
  std::optional<uint32_t> FindSlotByIp(uint32_t vpc, Ipv4 ip) const;
  std::optional<uint32_t> FindSlotByMac(uint32_t vpc, const Mac& mac) const;
  std::optional<uint32_t> FindSlotByIpv6(uint32_t vpc, const Ipv6& ip) const;
  std::string_view Iface(const Record& r) const;  // From iface and iface_len, no arena read.

  // The (VNI, IPv4) → (host, record slot) index, the packet path's. Open
  // addressing with linear probing and backward-shift deletion (no
  // tombstones, so probe lengths do not decay under churn). A slot is 16
  // bytes, four to a 64-byte line: IPv4, VNI, the endpoint's host and its
  // record slot, so a lookup compares and answers from the index line alone
  // and never reads the record (one miss where the 8-byte slots it replaced
  // cost two: the VNI and host were in the record). Keyed by VNI rather than
  // VPC index so the packet path needs no VNI → VPC lookup. The capacity is
  // not a power of two (the home slot is a multiply-shift of the hash), so
  // it tracks the load closely: 16 bytes per slot at a load of 0.57..0.85
  // is 188..280 MB for 10M endpoints. Growing frees the old table and
  // rebuilds from the records (a sequential scan), so there is never an old
  // and a new table at once.
  class IpIndex {
   public:
    struct Slot {
      Ipv4 ip;
      uint32_t vni;
      uint32_t host;  // Host index: host_underlay_[host] is the answer.
      uint32_t id;    // Record slot; kNone: empty.
    };
    static_assert(sizeof(Slot) == 16, "four slots to a cache line");
    explicit IpIndex(const GatewayDb* db) : db_(db) {}
    // The entry, or nullptr when absent.
    const Slot* Find(uint32_t vni, Ipv4 ip) const {
      return slots_.empty() ? nullptr : FindFrom(Home(vni, ip), vni, ip);
    }
    // Where the key's probe starts, and the probe from there (a batch
    // computes every home first, prefetches, then probes). REQUIRES:
    // capacity() > 0.
    size_t Home(uint32_t vni, Ipv4 ip) const {
      // One multiply (Fibonacci hashing), its high bits mapped onto
      // [0, capacity) by multiply-shift. Lookups are bound by how many
      // misses the core overlaps, which falls with each instruction a
      // lookup costs: murmur3's finalizer (three more multiplies and
      // shifts) made single lookups half as fast. Sequential addresses,
      // the common case, come out evenly spread.
      const uint64_t h = (uint64_t{vni} << 32 | ip) * 0x9e3779b97f4a7c15ull;
      return static_cast<size_t>((static_cast<unsigned __int128>(h) * slots_.size()) >> 64);
    }
    const Slot* FindFrom(size_t home, uint32_t vni, Ipv4 ip) const {
      for (size_t i = home;; i = Next(i)) {
        const Slot& s = slots_[i];
        if (s.id == kNone) return nullptr;
        if (s.ip == ip && s.vni == vni) return &s;
      }
    }
    // Adds the key unless present; returns the present entry's id, or kNone
    // when it was added. REQUIRES: room for one more (Reserve).
    uint32_t Insert(uint32_t vni, Ipv4 ip, uint32_t host, uint32_t id);
    // Points the entry at another host (a move); false when absent.
    bool SetHost(uint32_t vni, Ipv4 ip, uint32_t host);
    // Removes the key; false when absent.
    bool Erase(uint32_t vni, Ipv4 ip);
    // Makes room for `n` entries. REQUIRES: the index holds exactly the live
    // records (vpc != kNone), since growing rebuilds it from them.
    void Reserve(size_t n);
    size_t size() const { return size_; }
    size_t capacity() const { return slots_.size(); }
    const Slot& slot(size_t i) const { return slots_[i]; }

   private:
    size_t Next(size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
    Slot* FindMutable(uint32_t vni, Ipv4 ip);
    const GatewayDb* db_;
    std::vector<Slot, LargeAllocator<Slot>> slots_;
    size_t size_ = 0;
  };

  // Records in fixed blocks of 128k (Record is trivially copyable, so a
  // block is raw memory, set when a slot is taken): growing never copies, so a 10M load has
  // no transient second copy (a doubling vector peaked 300 MB higher) and
  // at most one block of unused capacity.
  class RecordStore {
   public:
    static constexpr uint32_t kShift = 17;
    static constexpr uint32_t kMask = (1u << kShift) - 1;
    Record& operator[](uint32_t i) { return blocks_[i >> kShift][i & kMask]; }
    const Record& operator[](uint32_t i) const { return blocks_[i >> kShift][i & kMask]; }
    size_t size() const { return size_; }
    size_t capacity() const { return blocks_.size() << kShift; }
    void emplace_back() {
      if ((size_ >> kShift) == blocks_.size()) {
        blocks_.emplace_back(static_cast<Record*>(AllocateLarge(kBlockBytes)));
      }
      (*this)[static_cast<uint32_t>(size_++)] = Record{};
    }
    void pop_back() { --size_; }  // The block stays for the next one.

   private:
    static constexpr size_t kBlockBytes = sizeof(Record) << kShift;  // 6 MB: 3 huge pages.
    struct Free {
      void operator()(Record* p) const { FreeLarge(p, kBlockBytes); }
    };
    std::vector<std::unique_ptr<Record[], Free>> blocks_;
    size_t size_ = 0;
  };

  RecordStore records_;
  uint32_t free_head_ = kNone;  // Free slots, linked through net_next.
  size_t live_ = 0;

  StringArena strings_;
  size_t string_garbage_ = 0;  // Bytes of freed strings.

  std::vector<HostRec> hosts_;
  // hosts_[h].underlay, dense: 4 bytes a host stays in cache, a HostRec
  // (strings, a map) would cost the packet path another miss.
  std::vector<Ipv4> host_underlay_;
  std::vector<uint32_t> free_hosts_;
  absl::flat_hash_map<std::string, uint32_t> host_by_name_;

  std::vector<VpcRec> vpcs_;
  std::vector<uint32_t> free_vpcs_;
  absl::flat_hash_map<std::string, uint32_t> vpc_by_id_;
  absl::flat_hash_map<uint32_t, uint32_t> vpc_by_vni_;

  std::vector<NetRec> networks_;
  std::vector<uint32_t> free_networks_;
  size_t live_networks_ = 0;

  absl::flat_hash_set<uint32_t, KeyHash, KeyEq, LargeAllocator<uint32_t>> by_key_;
  IpIndex by_ip_;
  absl::flat_hash_set<uint32_t, MacHash, MacEq, LargeAllocator<uint32_t>> by_mac_;
  absl::flat_hash_map<uint32_t, Ipv6> ipv6_;  // Slot → IPv6, for endpoints that have one.
  absl::flat_hash_map<V6Key, uint32_t> by_ipv6_;
};

}  // namespace shortcut::gateway
