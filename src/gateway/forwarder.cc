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

std::vector<of::FlowMod> OnePath(uint32_t vni, Ipv4 dst, Ipv4 dst_host, uint16_t idle) {
  std::vector<of::FlowMod> mods;
  mods.push_back(pipeline::DirectPathAdd(vni, dst, dst_host, idle));
  return mods;
}

}  // namespace

Forwarder::Forwarder(asio::any_io_executor ex, Gateway& gateway, Options options)
    : ex_(std::move(ex)), gw_(gateway), options_(options) {}

std::optional<Forwarder::Setup> Forwarder::Classify(const of::PacketIn& pin) {
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
  auto done = confirmed_.find(s.key);
  if (in_flight_.contains(s.key) ||
      (done != confirmed_.end() && now - done->second < options_.merge_window_ms)) {
    ++counters_.merged;
    return std::nullopt;
  }
  if (in_flight_.size() >= options_.max_in_flight) {
    ++counters_.shed;
    return std::nullopt;
  }
  s.src_underlay = src->host_underlay;
  s.dst_underlay = dst->host_underlay;
  s.src_host = std::string(db.View(src->id).host);
  s.dst_host = std::string(db.View(dst->id).host);
  s.start_us = NowUs();
  in_flight_[s.key] = true;
  return s;
}

void Forwarder::OnPacketIn(const of::PacketIn& pin) {
  std::optional<Setup> setup = Classify(pin);
  if (!setup) return;
  asio::co_spawn(ex_, Install(*std::move(setup)), asio::detached);
}

asio::awaitable<absl::Status> Forwarder::Handle(of::PacketIn pin) {
  std::optional<Setup> setup = Classify(pin);
  if (!setup) co_return absl::OkStatus();
  co_return co_await Install(*std::move(setup));
}

asio::awaitable<absl::Status> Forwarder::Install(Setup s) {
  using namespace asio::experimental::awaitable_operators;
  const uint16_t idle = gw_.options().direct_idle_timeout_s;
  HostProgrammer* src = gw_.programmer(s.src_host);
  HostProgrammer* dst = gw_.programmer(s.dst_host);
  absl::Status status;
  if (src == nullptr || dst == nullptr) {
    status = absl::FailedPreconditionError(
        absl::StrCat("no OpenFlow session to ", src == nullptr ? s.src_host : s.dst_host));
  } else {
    // Both ways at once: the reply's first packet goes direct too.
    std::vector<of::FlowMod> forward = OnePath(s.vni, s.dst_ip, s.dst_underlay, idle);
    std::vector<of::FlowMod> reverse = OnePath(s.vni, s.src_ip, s.src_underlay, idle);
    auto [a, b] = co_await (src->SendDirectPaths(std::move(forward)) &&
                            dst->SendDirectPaths(std::move(reverse)));
    status = a.ok() ? b : a;
  }
  in_flight_.erase(s.key);
  if (status.ok()) {
    ++counters_.setups;
    confirmed_[s.key] = options_.clock->NowMs();
    ForgetOld(options_.clock->NowMs());
  } else {
    ++counters_.failures;
    spdlog::warn("direct path {} → {}: {}", s.src_host, s.dst_host, status.ToString());
  }
  Record(s, status);
  co_return status;
}

void Forwarder::Record(const Setup& s, const absl::Status& status) {
  PathRecord r;
  r.src_host = s.src_host;
  r.dst_host = s.dst_host;
  r.vni = s.vni;
  r.src_ip = s.src_ip;
  r.dst_ip = s.dst_ip;
  r.setup_us = NowUs() - s.start_us;
  r.unix_time_ms = UnixMs();
  if (!status.ok()) r.error = std::string(status.message());
  if (status.ok()) {
    if (setup_us_.size() < kSetupSamples) {
      setup_us_.push_back(r.setup_us);
    } else {
      setup_us_[setup_next_] = r.setup_us;
      setup_next_ = (setup_next_ + 1) % kSetupSamples;
    }
  }
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
