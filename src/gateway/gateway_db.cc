#include "src/gateway/gateway_db.h"

#include <arpa/inet.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shortcut::gateway {
namespace {

constexpr size_t kMaxString = StringArena::kMaxString;  // Keys and iface ids: one length byte.
// Compact the arena when garbage exceeds both this and half of it.
constexpr size_t kCompactMin = 1 << 20;

// Broken invariant: stop loudly (ARCHITECTURE.md, "Error policy").
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "gateway_db: broken invariant: %s\n", what);
  std::abort();
}

absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

uint64_t MacU64(const Mac& m) {
  uint64_t v = 0;
  for (uint8_t b : m) v = v << 8 | b;
  return v;
}

// A network's CIDRs, validated; message prefix names the network.
absl::StatusOr<std::pair<Ipv4Cidr, std::optional<Ipv6Cidr>>> ParseNetwork(const Network& n) {
  if (n.id.empty()) return absl::InvalidArgumentError("network: id is empty");
  std::optional<Ipv4Cidr> v4 = ParseIpv4Cidr(n.ipv4_cidr);
  if (!v4) {
    return absl::InvalidArgumentError(absl::StrCat("network ", n.id, ": ipv4_cidr '", n.ipv4_cidr,
                                                   "' is malformed or has host bits set"));
  }
  std::optional<Ipv6Cidr> v6;
  if (!n.ipv6_cidr.empty()) {
    v6 = ParseIpv6Cidr(n.ipv6_cidr);
    if (!v6) {
      return absl::InvalidArgumentError(absl::StrCat("network ", n.id, ": ipv6_cidr '", n.ipv6_cidr,
                                                     "' is malformed or has host bits set"));
    }
  }
  return std::make_pair(*v4, v6);
}

}  // namespace

// ---- Large allocations. ----

namespace {
constexpr size_t kHugePage = 2 << 20;
}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes < kHugePage) return ::operator new(bytes);
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) Die("out of memory");
  // Advice only: without THP the memory is just ordinary pages.
  (void)madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

void FreeLarge(void* p, size_t bytes) {
  if (bytes < kHugePage) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}

// ---- Index functors. ----

size_t GatewayDb::KeyHash::operator()(StrKey k) const {
  return absl::Hash<absl::string_view>{}(A(k.s));
}
size_t GatewayDb::KeyHash::operator()(uint32_t slot) const {
  return (*this)(StrKey{db->Str(db->records_[slot].key)});
}
bool GatewayDb::KeyEq::operator()(uint32_t a, StrKey b) const {
  return db->Str(db->records_[a].key) == b.s;
}
bool GatewayDb::KeyEq::operator()(uint32_t a, uint32_t b) const {
  return a == b || (*this)(a, StrKey{db->Str(db->records_[b].key)});
}

// ---- The (VNI, IPv4) index. ----

namespace {
// Grow past this load; grow to at most kLoadAfterGrow (linear probing stays
// short below ~0.85: ~3.3 slots, one cache line, per hit on average).
constexpr double kMaxLoad = 0.85;
constexpr double kLoadAfterGrow = 0.75;
}  // namespace

GatewayDb::IpIndex::Slot* GatewayDb::IpIndex::FindMutable(uint32_t vni, Ipv4 ip) {
  return const_cast<Slot*>(std::as_const(*this).Find(vni, ip));
}

uint32_t GatewayDb::IpIndex::Insert(uint32_t vni, Ipv4 ip, uint32_t host, uint32_t id) {
  if (static_cast<double>(size_ + 1) > kMaxLoad * static_cast<double>(slots_.size())) {
    Die("IpIndex: insert without room");
  }
  for (size_t i = Home(vni, ip);; i = Next(i)) {
    Slot& s = slots_[i];
    if (s.id == kNone) {
      s = Slot{ip, vni, host, id};
      ++size_;
      return kNone;
    }
    if (s.ip == ip && s.vni == vni) return s.id;
  }
}

bool GatewayDb::IpIndex::SetHost(uint32_t vni, Ipv4 ip, uint32_t host) {
  Slot* s = FindMutable(vni, ip);
  if (s == nullptr) return false;
  s->host = host;
  return true;
}

bool GatewayDb::IpIndex::Erase(uint32_t vni, Ipv4 ip) {
  Slot* found = FindMutable(vni, ip);
  if (found == nullptr) return false;
  size_t hole = static_cast<size_t>(found - slots_.data());
  // Backward shift: pull later entries of the run into the hole unless that
  // would put one before its home slot (home cyclically in (hole, j]).
  for (size_t j = Next(hole); slots_[j].id != kNone; j = Next(j)) {
    size_t home = Home(slots_[j].vni, slots_[j].ip);
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole] = Slot{0, 0, kNone, kNone};
  --size_;
  return true;
}

void GatewayDb::IpIndex::Reserve(size_t n) {
  if (static_cast<double>(n) <= kMaxLoad * static_cast<double>(slots_.size())) return;
  // Geometric growth (x1.3 at least) keeps a bulk load's rebuilds O(n) in
  // total; sizing from `n` keeps a one-shot reserve near kLoadAfterGrow. A
  // small factor keeps the final load high (memory budget): a 10M load in
  // 64k batches ends at load 0.73 (220 MB) after 18 rebuilds, each a scan of
  // the records.
  size_t want = static_cast<size_t>(static_cast<double>(n) / kLoadAfterGrow) + 1;
  size_t capacity = std::max({want, slots_.size() + slots_.size() * 3 / 10, size_t{16}});
  // Free first, then rebuild from the records: no transient second table.
  std::vector<Slot, LargeAllocator<Slot>>().swap(slots_);
  slots_.assign(capacity, Slot{0, 0, kNone, kNone});
  size_ = 0;
  const RecordStore& records = db_->records_;
  for (uint32_t s = 0; s < records.size(); ++s) {
    const Record& r = records[s];
    if (r.vpc == kNone) continue;
    const uint32_t vni = db_->vpcs_[r.vpc].vni;
    size_t i = Home(vni, r.ipv4);
    while (slots_[i].id != kNone) i = Next(i);
    slots_[i] = Slot{r.ipv4, vni, r.host, s};
    ++size_;
  }
}

size_t GatewayDb::MacHash::operator()(MacKey k) const {
  return absl::Hash<std::pair<uint32_t, uint64_t>>{}({k.vpc, k.mac});
}
size_t GatewayDb::MacHash::operator()(uint32_t slot) const {
  const Record& r = db->records_[slot];
  return (*this)(MacKey{r.vpc, MacU64(r.mac)});
}
bool GatewayDb::MacEq::operator()(uint32_t a, MacKey b) const {
  const Record& r = db->records_[a];
  return r.vpc == b.vpc && MacU64(r.mac) == b.mac;
}
bool GatewayDb::MacEq::operator()(uint32_t a, uint32_t b) const {
  const Record& r = db->records_[b];
  return a == b || (*this)(a, MacKey{r.vpc, MacU64(r.mac)});
}

GatewayDb::GatewayDb()
    : by_key_(0, KeyHash{this}, KeyEq{this}), by_ip_(this), by_mac_(0, MacHash{this}, MacEq{this}) {
  static_assert(sizeof(Record) == 48, "the memory budget counts 48 bytes per endpoint");
}

// ---- Strings. ----

uint32_t GatewayDb::AppendString(std::string_view s) {
  if (s.size() > kMaxString || !strings_.Fits(s.size())) Die("string arena");
  return strings_.Append(s);
}

std::string_view GatewayDb::Str(uint32_t ref) const {
  if (ref == kNone) return {};
  return strings_.Get(ref);
}

void GatewayDb::ReleaseString(uint32_t ref) {
  if (ref != kNone) string_garbage_ += 1 + Str(ref).size();
}

void GatewayDb::MaybeCompactStrings() {
  if (string_garbage_ < kCompactMin || string_garbage_ * 2 < strings_.size()) return;
  // Copy the live strings into a new arena; slots do not move, so no index
  // changes (they hash string contents, not offsets).
  StringArena old;
  old.swap(strings_);
  for (uint32_t s = 0; s < records_.size(); ++s) {
    Record& r = records_[s];
    if (r.vpc == kNone) continue;
    uint32_t key = strings_.Append(old.Get(r.key));
    if (r.iface == r.key) {
      r.iface = key;
    } else if (r.iface != kNone) {
      r.iface = strings_.Append(old.Get(r.iface));
    }
    r.key = key;
  }
  string_garbage_ = 0;
}

// ---- Lookup helpers. ----

std::optional<uint32_t> GatewayDb::FindVpcIndex(std::string_view id) const {
  auto it = vpc_by_id_.find(A(id));
  if (it == vpc_by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> GatewayDb::FindHostIndex(std::string_view name) const {
  auto it = host_by_name_.find(A(name));
  if (it == host_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> GatewayDb::FindSlotByKey(std::string_view key) const {
  auto it = by_key_.find(StrKey{key});
  if (it == by_key_.end()) return std::nullopt;
  return *it;
}

std::optional<uint32_t> GatewayDb::FindSlotByIp(uint32_t vpc, Ipv4 ip) const {
  const IpIndex::Slot* s = by_ip_.Find(vpcs_[vpc].vni, ip);
  if (s == nullptr) return std::nullopt;
  return s->id;
}

std::optional<uint32_t> GatewayDb::FindSlotByMac(uint32_t vpc, const Mac& mac) const {
  auto it = by_mac_.find(MacKey{vpc, MacU64(mac)});
  if (it == by_mac_.end()) return std::nullopt;
  return *it;
}

std::optional<uint32_t> GatewayDb::FindSlotByIpv6(uint32_t vpc, const Ipv6& ip) const {
  auto it = by_ipv6_.find(V6Key{vpc, ip});
  if (it == by_ipv6_.end()) return std::nullopt;
  return it->second;
}

std::string_view GatewayDb::Iface(const Record& r) const {
  if (r.iface == kNone) return {};
  return strings_.Get(r.iface, r.iface_len);
}

EndpointView GatewayDb::View(EndpointId id) const {
  const Record& r = records_[id];
  if (r.vpc == kNone) Die("View of a free slot");
  EndpointView v;
  v.id = id;
  v.key = Str(r.key);
  v.vpc = vpcs_[r.vpc].id;
  v.vni = vpcs_[r.vpc].vni;
  v.network = networks_[r.network].id;
  v.ipv4 = r.ipv4;
  if (r.flags & kHasIpv6) v.ipv6 = ipv6_.at(id);
  v.mac = r.mac;
  v.host = hosts_[r.host].name;
  v.host_underlay = hosts_[r.host].underlay;
  v.iface_id = Str(r.iface);
  return v;
}

// ---- Hosts. ----

absl::StatusOr<HostUpdate> GatewayDb::UpsertHost(const Host& host) {
  if (host.name.empty()) return absl::InvalidArgumentError("host: name is empty");
  std::optional<Ipv4> underlay = ParseIpv4(host.underlay_ipv4);
  if (!underlay) {
    return absl::InvalidArgumentError(absl::StrCat("host ", host.name, ": underlay_ipv4 '",
                                                   host.underlay_ipv4, "' is malformed"));
  }
  for (auto [field, value] :
       {std::pair<const char*, const std::string*>{"openflow_target", &host.openflow_target},
        {"ovsdb_target", &host.ovsdb_target}}) {
    if (!ValidTargetText(*value)) {
      return absl::InvalidArgumentError(absl::StrCat("host ", host.name, ": ", field, " '", *value,
                                                     "' is not tcp:, ssl: or unix:"));
    }
  }
  HostUpdate result;
  uint32_t index;
  if (std::optional<uint32_t> found = FindHostIndex(host.name)) {
    index = *found;
  } else {
    result.created = true;
    if (!free_hosts_.empty()) {
      index = free_hosts_.back();
      free_hosts_.pop_back();
    } else {
      index = static_cast<uint32_t>(hosts_.size());
      hosts_.emplace_back();
      host_underlay_.push_back(0);
    }
    hosts_[index].name = host.name;
    host_by_name_.emplace(host.name, index);
  }
  HostRec& h = hosts_[index];
  result.underlay_changed = !result.created && h.underlay != *underlay;
  result.targets_changed = !result.created && (h.openflow_target != host.openflow_target ||
                                               h.ovsdb_target != host.ovsdb_target);
  h.underlay = *underlay;
  host_underlay_[index] = *underlay;
  h.openflow_target = host.openflow_target;
  h.ovsdb_target = host.ovsdb_target;
  return result;
}

absl::Status GatewayDb::DeleteHost(std::string_view name) {
  std::optional<uint32_t> index = FindHostIndex(name);
  if (!index) return absl::NotFoundError(absl::StrCat("host ", A(name), " is unknown"));
  HostRec& h = hosts_[*index];
  if (h.endpoints > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("host ", A(name), ": ", h.endpoints, " endpoints still live on it"));
  }
  host_by_name_.erase(A(name));
  h = HostRec{};
  host_underlay_[*index] = 0;
  free_hosts_.push_back(*index);
  return absl::OkStatus();
}

// ---- VPCs and networks. ----

absl::Status GatewayDb::AddVpc(const Vpc& vpc, const std::vector<Network>& networks) {
  if (vpc.id.empty()) return absl::InvalidArgumentError("vpc: id is empty");
  if (vpc.vni == 0 || vpc.vni > 0xffffff) {
    return absl::InvalidArgumentError(
        absl::StrCat("vpc ", vpc.id, ": vni ", vpc.vni, " is not in 1..16777215"));
  }
  std::optional<Mac> router_mac = ParseMac(vpc.router_mac);
  if (!router_mac || !model::IsUnicast(*router_mac)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vpc ", vpc.id, ": router_mac '", vpc.router_mac, "' is not a unicast MAC"));
  }
  if (FindVpcIndex(vpc.id)) {
    return absl::AlreadyExistsError(absl::StrCat("vpc ", vpc.id, " already exists"));
  }
  if (auto it = vpc_by_vni_.find(vpc.vni); it != vpc_by_vni_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("vpc ", vpc.id, ": vni ", vpc.vni,
                                                 " is already used by vpc ", vpcs_[it->second].id));
  }
  std::vector<std::pair<Ipv4Cidr, std::optional<Ipv6Cidr>>> parsed;
  for (size_t i = 0; i < networks.size(); ++i) {
    const Network& n = networks[i];
    auto cidrs = ParseNetwork(n);
    if (!cidrs.ok()) {
      return absl::Status(cidrs.status().code(),
                          absl::StrCat("vpc ", vpc.id, ": ", cidrs.status().message()));
    }
    for (size_t j = 0; j < i; ++j) {
      if (networks[j].id == n.id) {
        return absl::AlreadyExistsError(
            absl::StrCat("vpc ", vpc.id, ": network ", n.id, " is given twice"));
      }
      bool v6_overlap =
          cidrs->second && parsed[j].second && Overlaps(*cidrs->second, *parsed[j].second);
      if (Overlaps(cidrs->first, parsed[j].first) || v6_overlap) {
        return absl::InvalidArgumentError(
            absl::StrCat("vpc ", vpc.id, ": network ", n.id, " overlaps network ", networks[j].id));
      }
    }
    parsed.push_back(*cidrs);
  }

  uint32_t index;
  if (!free_vpcs_.empty()) {
    index = free_vpcs_.back();
    free_vpcs_.pop_back();
  } else {
    index = static_cast<uint32_t>(vpcs_.size());
    vpcs_.emplace_back();
  }
  VpcRec& v = vpcs_[index];
  v.id = vpc.id;
  v.vni = vpc.vni;
  v.router_mac = *router_mac;
  v.standby = vpc.standby;
  vpc_by_id_.emplace(vpc.id, index);
  vpc_by_vni_.emplace(vpc.vni, index);
  for (size_t i = 0; i < networks.size(); ++i) {
    uint32_t net;
    if (!free_networks_.empty()) {
      net = free_networks_.back();
      free_networks_.pop_back();
    } else {
      net = static_cast<uint32_t>(networks_.size());
      networks_.emplace_back();
    }
    networks_[net] = NetRec{networks[i].id, index, parsed[i].first, parsed[i].second, kNone, 0};
    vpcs_[index].networks.emplace(networks[i].id, net);
    ++live_networks_;
  }
  return absl::OkStatus();
}

absl::Status GatewayDb::AddNetwork(std::string_view vpc, const Network& network) {
  std::optional<uint32_t> index = FindVpcIndex(vpc);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(vpc), " is unknown"));
  auto cidrs = ParseNetwork(network);
  if (!cidrs.ok()) {
    return absl::Status(cidrs.status().code(),
                        absl::StrCat("vpc ", A(vpc), ": ", cidrs.status().message()));
  }
  VpcRec& v = vpcs_[*index];
  if (v.networks.contains(network.id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("vpc ", A(vpc), ": network ", network.id, " already exists"));
  }
  for (const auto& [id, net] : v.networks) {
    const NetRec& other = networks_[net];
    bool v6_overlap = cidrs->second && other.v6 && Overlaps(*cidrs->second, *other.v6);
    if (Overlaps(cidrs->first, other.v4) || v6_overlap) {
      return absl::InvalidArgumentError(
          absl::StrCat("vpc ", A(vpc), ": network ", network.id, " overlaps network ", id));
    }
  }
  uint32_t net;
  if (!free_networks_.empty()) {
    net = free_networks_.back();
    free_networks_.pop_back();
  } else {
    net = static_cast<uint32_t>(networks_.size());
    networks_.emplace_back();
  }
  networks_[net] = NetRec{network.id, *index, cidrs->first, cidrs->second, kNone, 0};
  v.networks.emplace(network.id, net);
  ++live_networks_;
  return absl::OkStatus();
}

Removal GatewayDb::RemoveNetworkEndpoints(uint32_t network, Removal removal) {
  // Collect first: Erase rewrites the list links being walked.
  std::vector<uint32_t> slots;
  slots.reserve(networks_[network].endpoints);
  for (uint32_t s = networks_[network].head; s != kNone; s = records_[s].net_next) {
    slots.push_back(s);
  }
  for (uint32_t s : slots) {
    removal.endpoints.push_back(Removed(s));
    uint32_t host = records_[s].host;
    if (Erase(s)) removal.released_hosts.push_back(hosts_[host].name);
  }
  return removal;
}

absl::StatusOr<Removal> GatewayDb::DeleteVpc(std::string_view id) {
  std::optional<uint32_t> index = FindVpcIndex(id);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(id), " is unknown"));
  Removal removal;
  removal.vpc = std::string(id);
  removal.vni = vpcs_[*index].vni;
  removal.endpoints.reserve(vpcs_[*index].endpoints);
  for (const auto& [net_id, net] : vpcs_[*index].networks) {
    removal = RemoveNetworkEndpoints(net, std::move(removal));
    networks_[net] = NetRec{};
    free_networks_.push_back(net);
    --live_networks_;
  }
  std::sort(removal.released_hosts.begin(), removal.released_hosts.end());
  if (vpcs_[*index].endpoints != 0 || !vpcs_[*index].hosts.empty()) Die("DeleteVpc counts");
  vpc_by_vni_.erase(vpcs_[*index].vni);
  vpc_by_id_.erase(A(id));
  vpcs_[*index] = VpcRec{};
  free_vpcs_.push_back(*index);
  MaybeCompactStrings();
  return removal;
}

absl::StatusOr<bool> GatewayDb::SetVpcStandby(std::string_view id, bool standby) {
  std::optional<uint32_t> index = FindVpcIndex(id);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(id), " is unknown"));
  VpcRec& v = vpcs_[*index];
  if (v.standby == standby) return false;
  v.standby = standby;
  return true;
}

absl::StatusOr<Removal> GatewayDb::DeleteNetwork(std::string_view vpc, std::string_view network) {
  std::optional<uint32_t> index = FindVpcIndex(vpc);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(vpc), " is unknown"));
  VpcRec& v = vpcs_[*index];
  auto it = v.networks.find(A(network));
  if (it == v.networks.end()) {
    return absl::NotFoundError(
        absl::StrCat("vpc ", A(vpc), ": network ", A(network), " is unknown"));
  }
  uint32_t net = it->second;
  Removal removal;
  removal.vpc = v.id;
  removal.vni = v.vni;
  removal.endpoints.reserve(networks_[net].endpoints);
  removal = RemoveNetworkEndpoints(net, std::move(removal));
  std::sort(removal.released_hosts.begin(), removal.released_hosts.end());
  vpcs_[*index].networks.erase(it);
  networks_[net] = NetRec{};
  free_networks_.push_back(net);
  --live_networks_;
  MaybeCompactStrings();
  return removal;
}

// ---- Endpoints. ----

absl::StatusOr<GatewayDb::Prepared> GatewayDb::Prepare(const Endpoint& e) const {
  if (e.key.empty()) return absl::InvalidArgumentError("endpoint: key is empty");
  if (e.key.size() > kMaxString) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint ", e.key.substr(0, 32), "...: key is longer than 255 bytes"));
  }
  auto error = [&](absl::StatusCode code, auto&&... parts) {
    return absl::Status(code, absl::StrCat("endpoint ", e.key, ": ", parts...));
  };
  if (e.iface_id.size() > kMaxString) {
    return error(absl::StatusCode::kInvalidArgument, "iface_id is longer than 255 bytes");
  }
  Prepared p;
  p.in = &e;
  std::optional<uint32_t> vpc = FindVpcIndex(e.vpc);
  if (!vpc) return error(absl::StatusCode::kNotFound, "vpc ", e.vpc, " is unknown");
  p.vpc = *vpc;
  const VpcRec& v = vpcs_[p.vpc];
  auto net = v.networks.find(e.network);
  if (net == v.networks.end()) {
    return error(absl::StatusCode::kNotFound, "network ", e.network, " is unknown in vpc ", e.vpc);
  }
  p.network = net->second;
  const NetRec& n = networks_[p.network];
  std::optional<uint32_t> host = FindHostIndex(e.host);
  if (!host) return error(absl::StatusCode::kNotFound, "host ", e.host, " is unknown");
  p.host = *host;

  std::optional<Ipv4> ipv4 = ParseIpv4(e.ipv4);
  if (!ipv4) return error(absl::StatusCode::kInvalidArgument, "ipv4 '", e.ipv4, "' is malformed");
  if (!n.v4.Contains(*ipv4)) {
    return error(absl::StatusCode::kInvalidArgument, "ipv4 ", e.ipv4, " is outside network ", n.id,
                 " (", FormatCidr(n.v4), ")");
  }
  p.ipv4 = *ipv4;
  p.has_ipv6 = !e.ipv6.empty();
  p.ipv6 = {};
  if (p.has_ipv6) {
    std::optional<Ipv6> ipv6 = ParseIpv6(e.ipv6);
    if (!ipv6) return error(absl::StatusCode::kInvalidArgument, "ipv6 '", e.ipv6, "' is malformed");
    if (!n.v6) {
      return error(absl::StatusCode::kInvalidArgument, "ipv6 ", e.ipv6, " given but network ", n.id,
                   " has no ipv6 cidr");
    }
    if (!n.v6->Contains(*ipv6)) {
      return error(absl::StatusCode::kInvalidArgument, "ipv6 ", e.ipv6, " is outside network ",
                   n.id, " (", FormatCidr(*n.v6), ")");
    }
    p.ipv6 = *ipv6;
  }
  std::optional<Mac> mac = ParseMac(e.mac);
  if (!mac || !model::IsUnicast(*mac)) {
    return error(absl::StatusCode::kInvalidArgument, "mac '", e.mac, "' is not a unicast MAC");
  }
  p.mac = *mac;
  return p;
}

absl::Status GatewayDb::ConflictError(const Prepared& p, Conflict c, uint32_t other) const {
  const Endpoint& e = *p.in;
  std::string_view other_key = Str(records_[other].key);
  switch (c) {
    case Conflict::kKey:
      return absl::AlreadyExistsError(absl::StrCat("endpoint ", e.key, " already exists"));
    case Conflict::kIpv4:
      return absl::AlreadyExistsError(absl::StrCat("endpoint ", e.key, ": ipv4 ", e.ipv4,
                                                   " is already used by endpoint ", A(other_key),
                                                   " in vpc ", e.vpc));
    case Conflict::kIpv6:
      return absl::AlreadyExistsError(absl::StrCat("endpoint ", e.key, ": ipv6 ", e.ipv6,
                                                   " is already used by endpoint ", A(other_key),
                                                   " in vpc ", e.vpc));
    case Conflict::kMac:
      return absl::AlreadyExistsError(absl::StrCat("endpoint ", e.key, ": mac ", e.mac,
                                                   " is already used by endpoint ", A(other_key),
                                                   " in vpc ", e.vpc));
    case Conflict::kNone:
      break;
  }
  Die("ConflictError without a conflict");
}

bool GatewayDb::Link(uint32_t slot) {
  Record& r = records_[slot];
  HostRec& h = hosts_[r.host];
  NetRec& n = networks_[r.network];
  r.host_prev = kNone;
  r.host_next = h.head;
  if (h.head != kNone) records_[h.head].host_prev = slot;
  h.head = slot;
  r.net_prev = kNone;
  r.net_next = n.head;
  if (n.head != kNone) records_[n.head].net_prev = slot;
  n.head = slot;
  ++h.endpoints;
  ++n.endpoints;
  VpcRec& v = vpcs_[r.vpc];
  ++v.endpoints;
  ++v.hosts[r.host];
  return ++h.vpcs[r.vpc] == 1;
}

bool GatewayDb::Unlink(uint32_t slot) {
  Record& r = records_[slot];
  HostRec& h = hosts_[r.host];
  NetRec& n = networks_[r.network];
  if (r.host_prev != kNone) {
    records_[r.host_prev].host_next = r.host_next;
  } else {
    h.head = r.host_next;
  }
  if (r.host_next != kNone) records_[r.host_next].host_prev = r.host_prev;
  if (r.net_prev != kNone) {
    records_[r.net_prev].net_next = r.net_next;
  } else {
    n.head = r.net_next;
  }
  if (r.net_next != kNone) records_[r.net_next].net_prev = r.net_prev;
  r.host_prev = r.host_next = r.net_prev = r.net_next = kNone;
  --h.endpoints;
  --n.endpoints;
  VpcRec& v = vpcs_[r.vpc];
  --v.endpoints;
  auto vh = v.hosts.find(r.host);
  auto hv = h.vpcs.find(r.vpc);
  if (vh == v.hosts.end() || hv == h.vpcs.end()) Die("Unlink: host/VPC counts");
  if (--vh->second == 0) v.hosts.erase(vh);
  if (--hv->second == 0) {
    h.vpcs.erase(hv);
    return true;
  }
  return false;
}

uint32_t GatewayDb::Insert(const Prepared& p, Conflict* conflict, uint32_t* other, bool* gained) {
  *conflict = Conflict::kNone;
  // Before the record is written: growing the IPv4 index rebuilds it from
  // the live records, which must all be indexed.
  by_ip_.Reserve(by_ip_.size() + 1);
  const StringArena::Mark arena_before = strings_.mark();
  uint32_t slot;
  bool appended = free_head_ == kNone;
  if (appended) {
    slot = static_cast<uint32_t>(records_.size());
    records_.emplace_back();
  } else {
    slot = free_head_;
    free_head_ = records_[slot].net_next;
  }
  Record& r = records_[slot];
  r = Record{};
  r.key = AppendString(p.in->key);
  if (p.in->iface_id.empty()) {
    r.iface = kNone;
  } else if (p.in->iface_id == p.in->key) {
    r.iface = r.key;  // Stored once.
  } else {
    r.iface = AppendString(p.in->iface_id);
  }
  r.iface_len = static_cast<uint8_t>(p.in->iface_id.size());
  r.vpc = p.vpc;
  r.network = p.network;
  r.host = p.host;
  r.ipv4 = p.ipv4;
  r.mac = p.mac;
  r.flags = p.has_ipv6 ? kHasIpv6 : 0;

  // Index by index; on a conflict take this slot out of those done so far.
  auto undo = [&](int done) {
    if (done >= 3) by_ip_.Erase(vpcs_[p.vpc].vni, p.ipv4);
    if (done >= 2) by_mac_.erase(slot);
    if (done >= 1) by_key_.erase(slot);
    strings_.Rollback(arena_before);
    if (appended) {
      records_.pop_back();
    } else {
      records_[slot] = Record{};
      records_[slot].net_next = free_head_;
      free_head_ = slot;
    }
    return kNone;
  };
  if (auto [it, ok] = by_key_.insert(slot); !ok) {
    *conflict = Conflict::kKey;
    *other = *it;
    return undo(0);
  }
  if (auto [it, ok] = by_mac_.insert(slot); !ok) {
    *conflict = Conflict::kMac;
    *other = *it;
    return undo(1);
  }
  if (uint32_t present = by_ip_.Insert(vpcs_[p.vpc].vni, p.ipv4, p.host, slot); present != kNone) {
    *conflict = Conflict::kIpv4;
    *other = present;
    return undo(2);
  }
  if (p.has_ipv6) {
    if (auto [it, ok] = by_ipv6_.try_emplace(V6Key{p.vpc, p.ipv6}, slot); !ok) {
      *conflict = Conflict::kIpv6;
      *other = it->second;
      return undo(3);
    }
    ipv6_.emplace(slot, p.ipv6);
  }
  *gained = Link(slot);
  ++live_;
  return slot;
}

bool GatewayDb::Erase(uint32_t slot, bool rollback) {
  Record& r = records_[slot];
  if (r.vpc == kNone) Die("Erase of a free slot");
  // Index erasure reads the record, so it comes before any change to it.
  by_key_.erase(slot);
  if (!by_ip_.Erase(vpcs_[r.vpc].vni, r.ipv4)) Die("Erase: ipv4 index");
  by_mac_.erase(slot);
  if (r.flags & kHasIpv6) {
    auto it = ipv6_.find(slot);
    if (it == ipv6_.end()) Die("Erase: IPv6 side table");
    by_ipv6_.erase(V6Key{r.vpc, it->second});
    ipv6_.erase(it);
  }
  bool released = Unlink(slot);
  if (!rollback) {
    ReleaseString(r.key);
    if (r.iface != r.key) ReleaseString(r.iface);
  }
  --live_;
  if (rollback && slot + 1 == records_.size()) {
    records_.pop_back();
  } else {
    records_[slot] = Record{};
    records_[slot].net_next = free_head_;
    free_head_ = slot;
  }
  return released;
}

RemovedEndpoint GatewayDb::Removed(uint32_t slot) const {
  const Record& r = records_[slot];
  RemovedEndpoint out;
  out.key = std::string(Str(r.key));
  out.network = networks_[r.network].id;
  out.ipv4 = r.ipv4;
  if (r.flags & kHasIpv6) out.ipv6 = ipv6_.at(slot);
  out.mac = r.mac;
  out.host = hosts_[r.host].name;
  return out;
}

absl::StatusOr<EndpointUpdate> GatewayDb::UpdateEndpoint(const Endpoint& endpoint) {
  auto prepared = Prepare(endpoint);
  if (!prepared.ok()) return prepared.status();
  const Prepared& p = *prepared;
  size_t need = 2 + endpoint.key.size() + endpoint.iface_id.size();
  if (!strings_.Fits(need)) {
    return absl::ResourceExhaustedError("endpoint " + endpoint.key + ": string arena is full");
  }
  std::optional<uint32_t> existing = FindSlotByKey(endpoint.key);
  uint32_t self = existing.value_or(kNone);
  // Uniqueness in the VPC, against every endpoint but itself.
  if (auto s = FindSlotByIp(p.vpc, p.ipv4); s && *s != self) {
    return ConflictError(p, Conflict::kIpv4, *s);
  }
  if (auto s = FindSlotByMac(p.vpc, p.mac); s && *s != self) {
    return ConflictError(p, Conflict::kMac, *s);
  }
  if (p.has_ipv6) {
    if (auto s = FindSlotByIpv6(p.vpc, p.ipv6); s && *s != self) {
      return ConflictError(p, Conflict::kIpv6, *s);
    }
  }

  EndpointUpdate result;
  if (!existing) {
    Conflict conflict;
    uint32_t other;
    if (Insert(p, &conflict, &other, &result.host_gained_vpc) == kNone) {
      Die("UpdateEndpoint: insert conflict after checks");
    }
    result.created = true;
    return result;
  }

  Record& r = records_[self];
  if (r.vpc != p.vpc) {
    return absl::FailedPreconditionError(absl::StrCat("endpoint ", endpoint.key, " is in vpc ",
                                                      vpcs_[r.vpc].id, ", not ", endpoint.vpc,
                                                      ": an endpoint never changes vpc"));
  }
  std::optional<Ipv6> old_ipv6;
  if (r.flags & kHasIpv6) old_ipv6 = ipv6_.at(self);
  std::optional<Ipv6> new_ipv6;
  if (p.has_ipv6) new_ipv6 = p.ipv6;
  result.old_host = hosts_[r.host].name;
  result.old_ipv4 = r.ipv4;
  result.old_ipv6 = old_ipv6;
  result.old_mac = r.mac;
  bool host_changed = r.host != p.host;
  bool network_changed = r.network != p.network;
  bool ipv4_changed = r.ipv4 != p.ipv4;
  bool mac_changed = r.mac != p.mac;
  bool ipv6_changed = old_ipv6 != new_ipv6;
  bool iface_changed = Str(r.iface) != endpoint.iface_id;
  result.moved = host_changed;
  result.readdressed = ipv4_changed || mac_changed || ipv6_changed;
  result.changed = result.moved || result.readdressed || network_changed || iface_changed;
  if (!result.changed) return result;

  // Apply. Each index entry is erased before the field it hashes changes.
  if (host_changed || network_changed) {
    bool released = Unlink(self);
    r.host = p.host;
    r.network = p.network;
    bool gained = Link(self);
    if (host_changed && !by_ip_.SetHost(vpcs_[r.vpc].vni, r.ipv4, r.host)) {
      Die("UpdateEndpoint: ipv4 index");
    }
    // With the host unchanged, a release and a gain of the same host cancel.
    result.old_host_released_vpc = host_changed && released;
    result.host_gained_vpc = host_changed && gained;
  }
  if (ipv4_changed) {
    uint32_t vni = vpcs_[r.vpc].vni;
    if (!by_ip_.Erase(vni, r.ipv4)) Die("UpdateEndpoint: ipv4 index");
    r.ipv4 = p.ipv4;
    if (by_ip_.Insert(vni, r.ipv4, r.host, self) != kNone) Die("UpdateEndpoint: ipv4 conflict");
  }
  if (mac_changed) {
    by_mac_.erase(self);
    r.mac = p.mac;
    by_mac_.insert(self);
  }
  if (ipv6_changed) {
    if (old_ipv6) {
      by_ipv6_.erase(V6Key{r.vpc, *old_ipv6});
      ipv6_.erase(self);
    }
    if (new_ipv6) {
      by_ipv6_.emplace(V6Key{r.vpc, *new_ipv6}, self);
      ipv6_.emplace(self, *new_ipv6);
    }
    r.flags = new_ipv6 ? kHasIpv6 : 0;
  }
  if (iface_changed) {
    if (r.iface != r.key) ReleaseString(r.iface);
    if (endpoint.iface_id.empty()) {
      r.iface = kNone;
    } else if (endpoint.iface_id == endpoint.key) {
      r.iface = r.key;
    } else {
      uint32_t ref = AppendString(endpoint.iface_id);
      records_[self].iface = ref;  // `r` is still valid: records_ did not grow.
    }
    r.iface_len = static_cast<uint8_t>(endpoint.iface_id.size());
    MaybeCompactStrings();
  }
  return result;
}

absl::StatusOr<Removal> GatewayDb::DeleteEndpoint(std::string_view key) {
  std::optional<uint32_t> slot = FindSlotByKey(key);
  if (!slot) return absl::NotFoundError(absl::StrCat("endpoint ", A(key), " is unknown"));
  const Record& r = records_[*slot];
  Removal removal;
  removal.vpc = vpcs_[r.vpc].id;
  removal.vni = vpcs_[r.vpc].vni;
  removal.endpoints.push_back(Removed(*slot));
  std::string host = hosts_[r.host].name;
  if (Erase(*slot)) removal.released_hosts.push_back(std::move(host));
  MaybeCompactStrings();
  return removal;
}

absl::Status GatewayDb::AddEndpoints(const std::vector<Endpoint>& endpoints) {
  // 1. Syntax and references, no change.
  std::vector<Prepared> prepared;
  prepared.reserve(endpoints.size());
  size_t need = 0;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    auto p = Prepare(endpoints[i]);
    if (!p.ok()) {
      return absl::Status(p.status().code(),
                          absl::StrCat("endpoints[", i, "]: ", p.status().message()));
    }
    prepared.push_back(*p);
    need += 2 + endpoints[i].key.size() + endpoints[i].iface_id.size();
  }
  // Padding at block ends adds at most a string's worth per 4 MB block.
  need += need / (StringArena::kBlock / (2 + 2 * kMaxString)) + 2 + 2 * kMaxString;
  if (!strings_.Fits(need)) {
    return absl::ResourceExhaustedError("endpoints: string arena is full");
  }
  // 2. Insert, checking uniqueness as each index takes the endpoint. Growing
  // the indexes once up front avoids rehashing repeatedly during the batch.
  by_key_.reserve(by_key_.size() + prepared.size());
  by_ip_.Reserve(by_ip_.size() + prepared.size());
  by_mac_.reserve(by_mac_.size() + prepared.size());
  const StringArena::Mark arena_before = strings_.mark();
  std::vector<uint32_t> slots;
  slots.reserve(prepared.size());
  for (size_t i = 0; i < prepared.size(); ++i) {
    Conflict conflict;
    uint32_t other;
    bool gained;
    uint32_t slot = Insert(prepared[i], &conflict, &other, &gained);
    if (slot != kNone) {
      slots.push_back(slot);
      continue;
    }
    // The message first: `other` may be one of this batch's endpoints.
    absl::Status error = ConflictError(prepared[i], conflict, other);
    for (auto it = slots.rbegin(); it != slots.rend(); ++it) Erase(*it, /*rollback=*/true);
    strings_.Rollback(arena_before);
    return absl::Status(error.code(), absl::StrCat("endpoints[", i, "]: ", error.message()));
  }
  return absl::OkStatus();
}

// ---- Lookups. ----

void GatewayDb::LookupBatch(const VniIp* keys, size_t n, std::optional<PathTarget>* out) const {
  // A lookup is one miss (its home line in the index), so the burst goes in
  // chunks through three passes: hash every chunk member (no memory
  // touched), prefetch their home lines, then probe each from its home (by
  // then mostly cached). A chunk's misses are in flight at once instead of
  // as many as the core's window happens to overlap; 16 covers the latency
  // with the ~10-20 line fill buffers a core has.
  if (by_ip_.capacity() == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = std::nullopt;
    return;
  }
  constexpr size_t kChunk = 16;
  size_t home[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    const VniIp* k = keys + base;
    for (size_t i = 0; i < m; ++i) home[i] = by_ip_.Home(k[i].vni, k[i].ip);
    // The prefetch stays in this loop: behind a call of its own, g++
    // judged that call free of effects and dropped the whole loop.
    for (size_t i = 0; i < m; ++i) __builtin_prefetch(&by_ip_.slot(home[i]));
    for (size_t i = 0; i < m; ++i) {
      const IpIndex::Slot* s = by_ip_.FindFrom(home[i], k[i].vni, k[i].ip);
      out[base + i] = s == nullptr
                          ? std::nullopt
                          : std::optional<PathTarget>(PathTarget{s->id, host_underlay_[s->host]});
    }
  }
}

std::optional<EndpointView> GatewayDb::ViewOf(std::optional<uint32_t> slot) const {
  if (!slot) return std::nullopt;
  return View(*slot);
}

std::optional<EndpointView> GatewayDb::FindEndpoint(std::string_view key) const {
  return ViewOf(FindSlotByKey(key));
}

std::optional<EndpointView> GatewayDb::FindByIpv4(std::string_view vpc, Ipv4 ip) const {
  std::optional<uint32_t> v = FindVpcIndex(vpc);
  return v ? ViewOf(FindSlotByIp(*v, ip)) : std::nullopt;
}

std::optional<EndpointView> GatewayDb::FindByIpv6(std::string_view vpc, const Ipv6& ip) const {
  std::optional<uint32_t> v = FindVpcIndex(vpc);
  return v ? ViewOf(FindSlotByIpv6(*v, ip)) : std::nullopt;
}

std::optional<EndpointView> GatewayDb::FindByMac(std::string_view vpc, const Mac& mac) const {
  std::optional<uint32_t> v = FindVpcIndex(vpc);
  return v ? ViewOf(FindSlotByMac(*v, mac)) : std::nullopt;
}

std::optional<HostView> GatewayDb::FindHost(std::string_view name) const {
  std::optional<uint32_t> index = FindHostIndex(name);
  if (!index) return std::nullopt;
  const HostRec& h = hosts_[*index];
  return HostView{h.name,         h.underlay,  h.openflow_target,
                  h.ovsdb_target, h.endpoints, h.vpcs.size()};
}

VpcView GatewayDb::VpcViewOf(const VpcRec& v) const {
  return VpcView{v.id,        v.vni,         v.router_mac, v.standby, v.networks.size(),
                 v.endpoints, v.hosts.size()};
}

std::optional<VpcView> GatewayDb::FindVpc(std::string_view id) const {
  std::optional<uint32_t> index = FindVpcIndex(id);
  if (!index) return std::nullopt;
  return VpcViewOf(vpcs_[*index]);
}

std::optional<VpcView> GatewayDb::FindVpcByVni(uint32_t vni) const {
  auto it = vpc_by_vni_.find(vni);
  if (it == vpc_by_vni_.end()) return std::nullopt;
  return FindVpc(vpcs_[it->second].id);
}

void GatewayDb::ForEachVpc(absl::FunctionRef<void(const VpcView&)> fn) const {
  for (const auto& [vni, index] : vpc_by_vni_) fn(VpcViewOf(vpcs_[index]));
}

void GatewayDb::ForEachEndpoint(absl::FunctionRef<void(const EndpointView&)> fn) const {
  for (uint32_t s = 0; s < records_.size(); ++s) {
    if (records_[s].vpc != kNone) fn(View(s));
  }
}

absl::Status GatewayDb::ForEachEndpointOfHost(
    std::string_view host, absl::FunctionRef<void(const EndpointView&)> fn) const {
  std::optional<uint32_t> index = FindHostIndex(host);
  if (!index) return absl::NotFoundError(absl::StrCat("host ", A(host), " is unknown"));
  for (uint32_t s = hosts_[*index].head; s != kNone; s = records_[s].host_next) fn(View(s));
  return absl::OkStatus();
}

absl::Status GatewayDb::ForEachEndpointOfVpc(
    std::string_view vpc, absl::FunctionRef<void(const EndpointView&)> fn) const {
  std::optional<uint32_t> index = FindVpcIndex(vpc);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(vpc), " is unknown"));
  for (const auto& [id, net] : vpcs_[*index].networks) {
    for (uint32_t s = networks_[net].head; s != kNone; s = records_[s].net_next) fn(View(s));
  }
  return absl::OkStatus();
}

absl::Status GatewayDb::ForEachEndpointOfNetwork(
    std::string_view vpc, std::string_view network,
    absl::FunctionRef<void(const EndpointView&)> fn) const {
  std::optional<uint32_t> index = FindVpcIndex(vpc);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(vpc), " is unknown"));
  const VpcRec& v = vpcs_[*index];
  auto it = v.networks.find(A(network));
  if (it == v.networks.end()) {
    return absl::NotFoundError(
        absl::StrCat("vpc ", A(vpc), ": network ", A(network), " is unknown"));
  }
  for (uint32_t s = networks_[it->second].head; s != kNone; s = records_[s].net_next) {
    fn(View(s));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Holding>> GatewayDb::HostsOfVpc(std::string_view vpc) const {
  std::optional<uint32_t> index = FindVpcIndex(vpc);
  if (!index) return absl::NotFoundError(absl::StrCat("vpc ", A(vpc), " is unknown"));
  std::vector<Holding> out;
  out.reserve(vpcs_[*index].hosts.size());
  for (const auto& [host, count] : vpcs_[*index].hosts) {
    out.push_back(Holding{hosts_[host].name, 0, count, false});
  }
  std::sort(out.begin(), out.end(),
            [](const Holding& a, const Holding& b) { return a.name < b.name; });
  return out;
}

absl::StatusOr<std::vector<Holding>> GatewayDb::VpcsOfHost(std::string_view host) const {
  std::optional<uint32_t> index = FindHostIndex(host);
  if (!index) return absl::NotFoundError(absl::StrCat("host ", A(host), " is unknown"));
  std::vector<Holding> out;
  out.reserve(hosts_[*index].vpcs.size());
  for (const auto& [vpc, count] : hosts_[*index].vpcs) {
    out.push_back(Holding{vpcs_[vpc].id, vpcs_[vpc].vni, count, vpcs_[vpc].standby});
  }
  std::sort(out.begin(), out.end(),
            [](const Holding& a, const Holding& b) { return a.name < b.name; });
  return out;
}

Stats GatewayDb::GetStats() const {
  return Stats{host_by_name_.size(), vpc_by_id_.size(), live_networks_, live_, ipv6_.size()};
}

MemoryUsage GatewayDb::GetMemoryUsage() const {
  // absl's flat tables: one control byte plus one slot per unit of capacity.
  auto set_bytes = [](size_t capacity, size_t slot) { return capacity * (slot + 1); };
  MemoryUsage m;
  m.records = records_.capacity() * sizeof(Record);
  m.strings = strings_.capacity();
  m.strings_garbage = string_garbage_;
  m.key_index = set_bytes(by_key_.capacity(), sizeof(uint32_t));
  m.ip_index = by_ip_.capacity() * sizeof(IpIndex::Slot);
  m.mac_index = set_bytes(by_mac_.capacity(), sizeof(uint32_t));
  m.ipv6 = set_bytes(ipv6_.capacity(), sizeof(std::pair<uint32_t, Ipv6>)) +
           set_bytes(by_ipv6_.capacity(), sizeof(std::pair<V6Key, uint32_t>));
  m.hosts_vpcs = hosts_.capacity() * sizeof(HostRec) + vpcs_.capacity() * sizeof(VpcRec) +
                 networks_.capacity() * sizeof(NetRec);
  for (const HostRec& h : hosts_) m.hosts_vpcs += set_bytes(h.vpcs.capacity(), 8);
  for (const VpcRec& v : vpcs_) m.hosts_vpcs += set_bytes(v.hosts.capacity(), 8);
  return m;
}

absl::Status GatewayDb::CheckConsistency() const {
  auto fail = [](auto&&... parts) { return absl::InternalError(absl::StrCat(parts...)); };
  size_t live = 0;
  size_t string_bytes = 0;
  absl::flat_hash_map<uint32_t, size_t> host_counts, net_counts, vpc_counts;
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, uint32_t> holding;  // (vpc, host).
  for (uint32_t s = 0; s < records_.size(); ++s) {
    const Record& r = records_[s];
    if (r.vpc == kNone) continue;
    ++live;
    if (r.vpc >= vpcs_.size() || vpcs_[r.vpc].id.empty()) return fail("slot ", s, ": dead vpc");
    if (r.network >= networks_.size() || networks_[r.network].vpc != r.vpc) {
      return fail("slot ", s, ": network not of its vpc");
    }
    if (r.host >= hosts_.size() || hosts_[r.host].name.empty()) {
      return fail("slot ", s, ": dead host");
    }
    string_bytes += 1 + Str(r.key).size();
    if (Iface(r) != Str(r.iface)) return fail("slot ", s, ": iface length");
    if (r.iface != kNone && r.iface != r.key) string_bytes += 1 + Str(r.iface).size();
    if (FindSlotByKey(Str(r.key)) != s) return fail("slot ", s, ": key index");
    if (FindSlotByIp(r.vpc, r.ipv4) != s) return fail("slot ", s, ": ipv4 index");
    if (FindSlotByMac(r.vpc, r.mac) != s) return fail("slot ", s, ": mac index");
    bool has6 = ipv6_.contains(s);
    if (has6 != ((r.flags & kHasIpv6) != 0)) return fail("slot ", s, ": ipv6 flag");
    if (has6 && FindSlotByIpv6(r.vpc, ipv6_.at(s)) != s) return fail("slot ", s, ": ipv6 index");
    ++host_counts[r.host];
    ++net_counts[r.network];
    ++vpc_counts[r.vpc];
    ++holding[{r.vpc, r.host}];
  }
  // Every (VNI, IPv4) entry names a live record with that key, VNI and host
  // (with the per-record check above, the index and the records are in
  // bijection), and sits at or after its home with no empty slot in between
  // (else a probe would stop short of it).
  for (size_t i = 0; i < by_ip_.capacity(); ++i) {
    const IpIndex::Slot& e = by_ip_.slot(i);
    if (e.id == kNone) continue;
    if (e.id >= records_.size() || records_[e.id].vpc == kNone || records_[e.id].ipv4 != e.ip ||
        vpcs_[records_[e.id].vpc].vni != e.vni) {
      return fail("ipv4 index entry ", i, ": stale");
    }
    if (records_[e.id].host != e.host) return fail("ipv4 index entry ", i, ": host");
    if (by_ip_.Find(e.vni, e.ip) != &e) return fail("ipv4 index entry ", i, ": unreachable");
  }
  if (host_underlay_.size() != hosts_.size()) return fail("host underlay array size");
  for (uint32_t h = 0; h < hosts_.size(); ++h) {
    if (host_underlay_[h] != hosts_[h].underlay) return fail("host ", h, ": underlay array");
  }
  if (live != live_ || by_key_.size() != live || by_ip_.size() != live || by_mac_.size() != live ||
      by_ipv6_.size() != ipv6_.size()) {
    return fail("index sizes: live ", live, " counted ", live_, " key ", by_key_.size(), " ip ",
                by_ip_.size(), " mac ", by_mac_.size());
  }
  if (string_bytes + string_garbage_ != strings_.size()) return fail("string arena accounting");
  for (uint32_t h = 0; h < hosts_.size(); ++h) {
    if (hosts_[h].name.empty()) continue;
    size_t n = 0;
    uint32_t prev = kNone;
    for (uint32_t s = hosts_[h].head; s != kNone; s = records_[s].host_next) {
      if (records_[s].host != h || records_[s].host_prev != prev) return fail("host list ", h);
      prev = s;
      if (++n > live) return fail("host list cycle ", h);
    }
    auto it = host_counts.find(h);
    size_t want = it == host_counts.end() ? 0 : it->second;
    if (n != want || hosts_[h].endpoints != want) return fail("host ", hosts_[h].name, " count");
    for (const auto& [vpc, count] : hosts_[h].vpcs) {
      auto hv = holding.find({vpc, h});
      if (hv == holding.end() || hv->second != count) return fail("host ", h, " vpc counts");
      auto vh = vpcs_[vpc].hosts.find(h);
      if (vh == vpcs_[vpc].hosts.end() || vh->second != count) return fail("vpc hosts mirror");
    }
  }
  size_t holdings = 0;
  for (uint32_t v = 0; v < vpcs_.size(); ++v) {
    if (vpcs_[v].id.empty()) continue;
    holdings += vpcs_[v].hosts.size();
    auto it = vpc_counts.find(v);
    if (vpcs_[v].endpoints != (it == vpc_counts.end() ? 0 : it->second)) {
      return fail("vpc ", vpcs_[v].id, " count");
    }
    for (const auto& [id, net] : vpcs_[v].networks) {
      size_t n = 0;
      uint32_t prev = kNone;
      for (uint32_t s = networks_[net].head; s != kNone; s = records_[s].net_next) {
        if (records_[s].network != net || records_[s].net_prev != prev) {
          return fail("network list ", id);
        }
        prev = s;
        if (++n > live) return fail("network list cycle ", id);
      }
      auto nc = net_counts.find(net);
      size_t want = nc == net_counts.end() ? 0 : nc->second;
      if (n != want || networks_[net].endpoints != want) return fail("network ", id, " count");
    }
  }
  if (holdings != holding.size()) return fail("vpc hosts: stale holdings");
  return absl::OkStatus();
}

}  // namespace shortcut::gateway
