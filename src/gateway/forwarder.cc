#include "src/gateway/forwarder.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/packet/packet.h"
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
    : ex_(ex), gw_(gateway), options_(options), round_done_(ex) {}

HostProgrammer* Forwarder::ProgrammerOf(Ipv4 underlay) {
  if (cluster_version_ != gw_.cluster_version()) {
    programmers_.clear();
    for (const Host& h : gw_.cluster().hosts) {
      auto ip = ParseIpv4(h.underlay_ipv4);
      HostProgrammer* p = gw_.programmer(h.name);
      if (ip && p != nullptr) programmers_[*ip] = p;
    }
    cluster_version_ = gw_.cluster_version();
  }
  auto it = programmers_.find(underlay);
  return it == programmers_.end() ? nullptr : it->second;
}

std::optional<Forwarder::Queued> Forwarder::Classify(const of::PacketIn& pin) {
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
  const GatewayDb& db = gw_.db();
  auto dst = db.LookupByVniIp(s.vni, s.dst_ip);
  if (!dst) {
    ++counters_.lookup_misses;
    return std::nullopt;
  }
  auto src = db.LookupByVniIp(s.vni, s.src_ip);
  if (!src || src->host_underlay != s.key.src_host) {
    ++counters_.unknown_source;
    return std::nullopt;
  }
  if (src->host_underlay == dst->host_underlay) {
    ++counters_.same_host;
    return std::nullopt;
  }
  Millis now = options_.clock->NowMs();
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
  s.src_underlay = src->host_underlay;
  s.dst_underlay = dst->host_underlay;
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
    for (const Setup& s : batch) {
      if (s.src == nullptr || s.dst == nullptr) continue;
      mods[s.src].push_back(pipeline::DirectPathAdd(s.vni, s.dst_ip, s.dst_underlay, idle));
      mods[s.dst].push_back(pipeline::DirectPathAdd(s.vni, s.src_ip, s.src_underlay, idle));
    }
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
      } else if (!results[s.src].ok()) {
        status = results[s.src];
      } else {
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
  if (status.ok()) {
    ++counters_.setups;
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

int64_t Forwarder::SetupPercentileUs(double p) const {
  if (setup_us_.empty()) return 0;
  std::vector<int64_t> v = setup_us_;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace shortcut::gateway
