#include "src/gateway/forwarder.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/model/offload.h"
#include "src/packet/packet.h"
#include "src/pipeline/gateway_pipeline.h"
#include "src/pipeline/pipeline.h"

namespace shortcut::gateway {
namespace {

constexpr size_t kSetupSamples = 4096;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Forwarder::Forwarder(asio::any_io_executor ex, Gateway& gateway, Options options)
    : ex_(ex), gw_(gateway), options_(options), round_done_(ex), budget_(options.budget_action) {}

Forwarder::~Forwarder() { *alive_ = false; }

void Forwarder::RefreshCluster() {
  if (cluster_version_ == gw_.cluster_version()) return;
  programmers_.clear();
  const ClusterConfig& c = gw_.cluster();
  absl::flat_hash_set<Ipv4> hosts;
  for (const Host& h : c.hosts) {
    auto ip = ParseIpv4(h.underlay_ipv4);
    if (!ip) continue;
    hosts.insert(*ip);
    HostProgrammer* p = gw_.programmer(h.name);
    if (p != nullptr) programmers_[*ip] = p;
    budget_.SetBudget(
        *ip, h.direct_path_budget != 0 ? h.direct_path_budget : options_.direct_path_budget);
  }
  for (Ipv4 gone : budget_.Hosts()) {
    if (!hosts.contains(gone)) budget_.SetBudget(gone, 0);  // Left the cluster.
  }
  // Tags: each member's tunnel ofport (MemberOfports: name order) less the
  // shared tunnel port's.
  std::vector<ClusterMember> members = c.members;
  std::sort(members.begin(), members.end(),
            [](const ClusterMember& a, const ClusterMember& b) { return a.name < b.name; });
  std::vector<uint32_t> ofports = MemberOfports(members);
  absl::flat_hash_set<uint16_t> serving;
  tag_ = 0;
  for (size_t i = 0; i < members.size() && i < ofports.size(); ++i) {
    const auto tag = static_cast<uint16_t>(ofports[i] - pipeline::kTunnelOfport);
    if (members[i].name == c.self) tag_ = tag;
    if (!members[i].standby) serving.insert(tag);
  }
  budget_.SetMembers(tag_, std::move(serving));
  cluster_version_ = gw_.cluster_version();
}

HostProgrammer* Forwarder::ProgrammerOf(Ipv4 underlay) {
  RefreshCluster();
  auto it = programmers_.find(underlay);
  return it == programmers_.end() ? nullptr : it->second;
}

std::optional<Forwarder::Setup> Forwarder::Parse(const of::PacketIn& pin) {
  ++counters_.packet_ins;
  const of::FieldMatch* tun_src = pin.match.Find(of::Field::kTunIpv4Src);
  const of::FieldMatch* vni_field = pin.match.Find(of::Field::kMetadata);
  if (vni_field == nullptr) vni_field = pin.match.Find(of::Field::kTunnelId);
  if (tun_src == nullptr || vni_field == nullptr) {
    ++counters_.malformed;
    return std::nullopt;
  }
  const uint64_t vni64 = vni_field->ValueU64();
  if (vni64 == 0 || vni64 > 0xffffff) {
    ++counters_.malformed;
    return std::nullopt;
  }
  packet::ParseOptions po;
  po.allow_truncated = true;  // The copy is cut at max_len.
  auto parsed = packet::ParsePacket(std::span<const uint8_t>(pin.data), po);
  if (!parsed.ok()) {
    ++counters_.malformed;
    return std::nullopt;
  }
  if (parsed->l3 != packet::L3Kind::kIpv4) {
    ++counters_.not_ipv4;
    return std::nullopt;
  }
  Setup s;
  s.vni = static_cast<uint32_t>(vni64);
  s.src_ip = parsed->ipv4.src.value;
  s.dst_ip = parsed->ipv4.dst.value;
  s.key = Key{static_cast<Ipv4>(tun_src->ValueU64()), s.vni, s.dst_ip};
  return s;
}

std::optional<Forwarder::Queued> Forwarder::Classify(const of::PacketIn& pin) {
  std::optional<Setup> s = Parse(pin);
  if (!s) return std::nullopt;
  const GatewayDb& db = gw_.db();
  std::optional<PathTarget> dst = db.LookupByVniIp(s->vni, s->dst_ip);
  std::optional<PathTarget> src = db.LookupByVniIp(s->vni, s->src_ip);
  return Decide(std::move(*s), dst, src);
}

void Forwarder::OnPacketIns(std::span<const of::PacketIn> pins) {
  if (pins.size() == 1) {
    (void)Classify(pins[0]);
    return;
  }
  // Parse them all, look up every destination and source in one batch (the
  // DB overlaps their cache misses), then decide each in arrival order.
  std::vector<Setup> setups;
  std::vector<VniIp> keys;
  setups.reserve(pins.size());
  keys.reserve(2 * pins.size());
  for (const of::PacketIn& pin : pins) {
    std::optional<Setup> s = Parse(pin);
    if (!s) continue;
    keys.push_back({s->vni, s->dst_ip});
    keys.push_back({s->vni, s->src_ip});
    setups.push_back(std::move(*s));
  }
  std::vector<std::optional<PathTarget>> found(keys.size());
  gw_.db().LookupBatch(keys.data(), keys.size(), found.data());
  ++counters_.bursts;
  for (size_t i = 0; i < setups.size(); ++i) {
    (void)Decide(std::move(setups[i]), found[2 * i], found[2 * i + 1]);
  }
}

std::optional<Forwarder::Queued> Forwarder::Decide(Setup s, std::optional<PathTarget> dst,
                                                   std::optional<PathTarget> src) {
  if (!dst) {
    ++counters_.lookup_misses;
    return std::nullopt;
  }
  if (!src || src->host_underlay != s.key.src_host) {
    ++counters_.unknown_source;
    return std::nullopt;
  }
  if (src->host_underlay == dst->host_underlay) {
    ++counters_.same_host;
    return std::nullopt;
  }
  Millis now = options_.clock->NowMs();
  s.src_underlay = src->host_underlay;
  s.dst_underlay = dst->host_underlay;
  std::optional<model::OffloadPolicy> policy = gw_.OffloadOf(s.vni);
  GatewayBridge* bridge = gw_.bridge();
  if (policy && policy->mode == model::OffloadMode::kThreshold && bridge != nullptr) {
    // Counted in the data plane: the counting flow carries the flow (no more
    // copies) until PollThresholds sees it cross.
    pipeline::CountFlowKey ck{s.key.src_host, s.vni, s.dst_ip};
    if (counter_.Tracked(ck)) {
      ++counters_.counting;
      return std::nullopt;
    }
    if (Recent(s.key, now)) {
      ++counters_.merged;
      return std::nullopt;
    }
    const uint32_t window_s = (model::OffloadWindowMs(*policy) + 999) / 1000;
    const auto idle = static_cast<uint16_t>(std::min<uint32_t>(
        0xffff, std::max<uint32_t>(options_.count_idle_timeout_s, 2 * window_s)));
    counter_.Track(ck, s.src_ip, now);
    bridge->AddCountFlow(s.vni, s.key.src_host, s.dst_ip, s.dst_underlay, idle);
    ++counters_.counts_started;
    return std::nullopt;
  }
  return Enqueue(std::move(s), now);
}

std::optional<Forwarder::Queued> Forwarder::Enqueue(Setup s, Millis now) {
  // Only the packet-in's own key counts: covered as a setup's forward key
  // (a duplicate) or as its reverse one (a reply that reached the gateway
  // before the reverse path reached its host). A setup that merely shares
  // this one's reverse (the same source toward another VM of the same
  // host) installs nothing toward this destination on the sending host.
  if (Recent(s.key, now)) {
    ++counters_.merged;
    return std::nullopt;
  }
  if (in_flight_ >= options_.max_in_flight) {
    ++counters_.shed;
    return std::nullopt;
  }
  s.src = ProgrammerOf(s.src_underlay);
  s.dst = ProgrammerOf(s.dst_underlay);
  s.start_us = NowUs();
  s.round = round_;
  ++in_flight_;
  ++covered_[s.key];
  ++covered_[Reverse(s)];
  Queued queued{s.key, s.round};
  queue_.push_back(s);
  if (!pumping_) {
    pumping_ = true;
    // co_spawn may run the pump at once, up to its first wait: it takes
    // the queue with it.
    asio::co_spawn(ex_, Pump(), asio::detached);
  }
  return queued;
}

bool Forwarder::Recent(const Key& key, Millis now) const {
  if (covered_.contains(key)) return true;
  auto done = confirmed_.find(key);
  return done != confirmed_.end() && now - done->second < options_.merge_window_ms;
}

void Forwarder::OnPacketIn(const of::PacketIn& pin) { (void)Classify(pin); }

asio::awaitable<absl::Status> Forwarder::Handle(of::PacketIn pin) {
  std::optional<Queued> mine = Classify(pin);
  if (!mine) co_return absl::OkStatus();
  const Key key = mine->key;
  const uint64_t round = mine->round;
  awaited_.insert(key);
  while (done_round_ < round) co_await round_done_.Wait();
  awaited_.erase(key);
  auto it = handled_.find(key);
  absl::Status s = it == handled_.end() ? absl::OkStatus() : it->second;
  if (it != handled_.end()) handled_.erase(it);
  co_return s;
}

asio::awaitable<void> Forwarder::Pump() {
  using namespace asio::experimental::awaitable_operators;
  const uint16_t idle = gw_.options().direct_idle_timeout_s;
  while (!queue_.empty()) {
    std::vector<Setup> batch = std::move(queue_);
    queue_.clear();
    const uint64_t round = round_++;
    // Per host: its flow_mods of this round, then one send each, all hosts
    // at once.
    absl::flat_hash_map<HostProgrammer*, std::vector<of::FlowMod>> mods;
    const Millis now = options_.clock->NowMs();
    RefreshCluster();
    for (Setup& s : batch) {
      if (s.src == nullptr || s.dst == nullptr) continue;
      std::vector<of::FlowMod>& to_src = mods[s.src];
      s.installed_fwd = AdmitPath(s.src_underlay, s.vni, s.dst_ip, now, to_src);
      if (s.installed_fwd) {
        to_src.push_back(pipeline::DirectPathAdd(s.vni, s.dst_ip, s.dst_underlay, idle, tag_));
      }
      std::vector<of::FlowMod>& to_dst = mods[s.dst];
      s.installed_rev = AdmitPath(s.dst_underlay, s.vni, s.src_ip, now, to_dst);
      if (s.installed_rev) {
        to_dst.push_back(pipeline::DirectPathAdd(s.vni, s.src_ip, s.src_underlay, idle, tag_));
      }
    }
    absl::erase_if(mods, [](const auto& kv) { return kv.second.empty(); });
    absl::flat_hash_map<HostProgrammer*, absl::Status> results;
    size_t pending = mods.size();
    for (auto& [host, list] : mods) {
      HostProgrammer* h = host;
      asio::co_spawn(ex_, h->SendDirectPaths(std::move(list)),
                     [this, h, &results, &pending](std::exception_ptr e, absl::Status s) {
                       results[h] = e ? absl::InternalError("direct-path send threw") : s;
                       if (--pending == 0) round_done_.Notify();
                     });
    }
    while (pending > 0) co_await round_done_.Wait();
    for (const Setup& s : batch) {
      absl::Status status;
      if (s.src == nullptr || s.dst == nullptr) {
        status = absl::FailedPreconditionError("no OpenFlow session to the host");
      } else if (s.installed_fwd && !results[s.src].ok()) {
        status = results[s.src];
      } else if (s.installed_rev) {
        status = results[s.dst];
      }
      Complete(s, status);
    }
    done_round_ = round;
    round_done_.Notify();
  }
  pumping_ = false;
}

void Forwarder::Complete(const Setup& s, const absl::Status& status) {
  --in_flight_;
  for (const Key& k : {s.key, Reverse(s)}) {
    auto it = covered_.find(k);
    if (it != covered_.end() && --it->second == 0) covered_.erase(it);
  }
  const int64_t now_us = NowUs();
  if (status.ok() && !s.installed_fwd && !s.installed_rev) {
    // Both paths refused by their hosts' budgets: the flow stays on the
    // gateways; the merge window keeps its copies from retrying at once.
    confirmed_[s.key] = options_.clock->NowMs();
  } else if (status.ok()) {
    ++counters_.setups;
    ++vpc_counters_[s.vni].setups;
    confirmed_[s.key] = options_.clock->NowMs();
    confirmed_[Reverse(s)] = options_.clock->NowMs();
    ForgetOld(options_.clock->NowMs());
    int64_t us = now_us - s.start_us;
    if (on_setup_) on_setup_(us);
    if (setup_us_.size() < kSetupSamples) {
      setup_us_.push_back(us);
    } else {
      setup_us_[setup_next_] = us;
      setup_next_ = (setup_next_ + 1) % kSetupSamples;
    }
  } else {
    ++counters_.failures;
    if (counters_.failures < 10 || counters_.failures % 1000 == 0) {
      spdlog::warn("direct path for {} toward {} (VNI {}): {} (failures: {})", FormatIpv4(s.src_ip),
                   FormatIpv4(s.dst_ip), s.vni, status.ToString(), counters_.failures);
    }
  }
  if (awaited_.contains(s.key)) handled_[s.key] = status;
  if (options_.recent_paths == 0) return;
  PathRecord r;
  r.src_host = s.src ? s.src->name() : FormatIpv4(s.src_underlay);
  r.dst_host = s.dst ? s.dst->name() : FormatIpv4(s.dst_underlay);
  r.vni = s.vni;
  r.src_ip = s.src_ip;
  r.dst_ip = s.dst_ip;
  r.setup_us = now_us - s.start_us;
  r.unix_time_ms = UnixMs();
  if (!status.ok()) r.error = std::string(status.message());
  recent_.push_back(std::move(r));
  while (recent_.size() > options_.recent_paths) recent_.pop_front();
}

void Forwarder::ForgetOld(Millis now) {
  // Amortised: sweep only when the table doubled since the last sweep.
  static constexpr size_t kMinSweep = 1024;
  if (confirmed_.size() < kMinSweep) return;
  if (confirmed_.size() < 2 * swept_size_) return;
  absl::erase_if(confirmed_,
                 [&](const auto& kv) { return now - kv.second >= options_.merge_window_ms; });
  swept_size_ = std::max(confirmed_.size(), kMinSweep / 2);
}

bool Forwarder::AdmitPath(Ipv4 host, uint32_t vni, Ipv4 dst, Millis now,
                          std::vector<of::FlowMod>& mods) {
  if (!budget_.Limited(host)) return true;
  PathBudget::Decision d = budget_.Admit(host, {vni, dst}, now);
  for (const PathBudget::PathKey& k : d.evict) {
    mods.push_back(pipeline::DirectPathEvict(k.vni, k.dst, tag_));
    ++counters_.paths_evicted;
  }
  if (!d.install) ++counters_.paths_refused;
  return d.install;
}

void Forwarder::Start() {
  asio::co_spawn(ex_, Every(&Forwarder::ThresholdPeriod, true, alive_), asio::detached);
  asio::co_spawn(ex_, Every(&Forwarder::BudgetPeriod, false, alive_), asio::detached);
}

Millis Forwarder::ThresholdPeriod() const {
  // A quarter of the shortest window: a flow is judged over its window
  // give or take a quarter.
  const uint32_t w = gw_.MinThresholdWindowMs();
  if (w == 0) return 1000;
  return std::clamp<Millis>(w / 4, 25, 1000);
}

asio::awaitable<void> Forwarder::Every(Millis (Forwarder::*period)() const, bool thresholds,
                                       std::shared_ptr<bool> alive) {
  asio::steady_timer timer(ex_);
  while (*alive) {
    timer.expires_after(std::chrono::milliseconds((this->*period)()));
    co_await timer.async_wait(asio::use_awaitable);
    if (!*alive) co_return;
    if (thresholds) {
      (void)co_await PollThresholds();  // Counted; the next poll tries again.
    } else {
      co_await ScanBudgets();
    }
  }
}

asio::awaitable<absl::Status> Forwarder::PollThresholds() {
  GatewayBridge* bridge = gw_.bridge();
  if (bridge == nullptr || counter_.size() == 0) co_return absl::OkStatus();
  std::shared_ptr<bool> alive = alive_;
  const uint64_t begun = counter_.BeginRead();
  auto flows = co_await bridge->DumpCountFlows();
  if (!*alive) co_return absl::CancelledError("forwarder gone");
  if (!flows.ok()) {
    ++counters_.count_read_failures;
    co_return flows.status();
  }
  ++counters_.count_reads;
  std::vector<OffloadCounter::Read> reads;
  reads.reserve(flows->size());
  for (const of::FlowStats& f : *flows) {
    if (auto key = pipeline::ParseCountFlow(f))
      reads.push_back({*key, f.packet_count, f.byte_count});
  }
  const Millis now = options_.clock->NowMs();
  std::vector<OffloadCounter::Crossed> crossed =
      counter_.EndRead(begun, reads, now, [this](uint32_t vni) { return gw_.OffloadOf(vni); });
  const GatewayDb& db = gw_.db();
  for (const OffloadCounter::Crossed& c : crossed) {
    auto dst = db.LookupByVniIp(c.key.vni, c.key.dst_ipv4);
    auto src = db.LookupByVniIp(c.key.vni, c.src_ip);
    if (!dst || !src || src->host_underlay != c.key.src_host ||
        dst->host_underlay == src->host_underlay) {
      counter_.Untrack(c.key);  // Moved or gone: the next packet-in starts afresh.
      continue;
    }
    Setup s;
    s.vni = c.key.vni;
    s.src_ip = c.src_ip;
    s.dst_ip = c.key.dst_ipv4;
    s.key = Key{c.key.src_host, s.vni, s.dst_ip};
    s.src_underlay = src->host_underlay;
    s.dst_underlay = dst->host_underlay;
    ++counters_.threshold_offloads;
    ++vpc_counters_[s.vni].threshold_offloads;
    (void)Enqueue(std::move(s), now);
  }
  co_return absl::OkStatus();
}

asio::awaitable<void> Forwarder::ScanBudgets() {
  RefreshCluster();
  std::shared_ptr<bool> alive = alive_;
  for (Ipv4 host : budget_.Hosts()) {
    std::optional<PathBudget::HostView> view = budget_.View(host);
    if (!view || (view->own == 0 && view->reads > 0)) continue;
    HostProgrammer* p = ProgrammerOf(host);
    if (p == nullptr || !p->connected()) continue;
    const uint64_t begun = budget_.BeginRead(host);
    auto flows = co_await p->DumpDirectPaths();
    if (!*alive) co_return;
    if (!flows.ok()) {
      ++counters_.budget_read_failures;
      continue;
    }
    ++counters_.budget_reads;
    std::vector<PathBudget::ReadPath> paths;
    paths.reserve(flows->size());
    for (const of::FlowStats& f : *flows) {
      if ((f.cookie & pipeline::kCookieKindMask) != pipeline::kCookieDirect) continue;
      const of::FieldMatch* dst = f.match.Find(of::Field::kIpv4Dst);
      if (dst == nullptr) continue;
      paths.push_back(
          {{static_cast<uint32_t>(f.cookie & 0xffffff), static_cast<Ipv4>(dst->ValueU64())},
           pipeline::DirectPathTag(f.cookie),
           f.packet_count});
    }
    budget_.EndRead(host, begun, paths, options_.clock->NowMs());
  }
}

asio::awaitable<void> Forwarder::Drain() {
  while (in_flight_ > 0) co_await round_done_.Wait();
}

int64_t Forwarder::SetupPercentileUs(double p) const {
  if (setup_us_.empty()) return 0;
  std::vector<int64_t> v = setup_us_;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace shortcut::gateway
