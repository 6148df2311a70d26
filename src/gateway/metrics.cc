#include "src/gateway/metrics.h"

#include <set>
#include <string>

namespace shortcut::gateway {
namespace {

// GetStats fields that count events since start: counters. The others are
// levels (gauges), but for the strings and the percentiles (the histogram
// gives those).
const std::set<std::string>& CounterFields() {
  static const std::set<std::string> kCounters = {
      "packet_ins",           "direct_paths_installed", "direct_paths_merged",
      "packet_ins_shed",      "lookup_misses",          "setup_failures",
      "unknown_source",       "malformed_packet_ins",   "invalidations",
      "threshold_offloads",   "paths_evicted",          "paths_refused",
      "budget_read_failures", "threshold_reads",        "api_calls_refused",
      "api_streams_refused",  "packet_in_bursts"};
  return kCounters;
}

const std::set<std::string>& SkippedFields() {
  static const std::set<std::string> kSkipped = {"instance_id", "cluster_id", "setup_p50_us",
                                                 "setup_p99_us"};
  return kSkipped;
}

}  // namespace

metrics::Histogram& GatewayMetrics::Add(metrics::Registry& registry) const {
  metrics::Histogram& setups =
      registry
          .AddHistogram("shortcut_gateway_direct_path_setup_seconds",
                        "Direct-path setups confirmed: from the first packet's packet-in to both "
                        "hosts' barriers.",
                        metrics::ExponentialBuckets(0.0001, 2, 16))
          .With({});
  auto stats = this->stats;
  registry.AddCollector([stats](metrics::Writer& w) {
    v1::GetStatsResponse s = stats();
    w.Family("shortcut_gateway_info", "The gateway's instance (new at every start) and cluster.",
             metrics::Type::kGauge);
    w.Sample("shortcut_gateway_info",
             {{"instance_id", s.instance_id()}, {"cluster_id", std::to_string(s.cluster_id())}}, 1);
    const google::protobuf::Descriptor* d = s.GetDescriptor();
    const google::protobuf::Reflection* r = s.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = d->field(i);
      if (SkippedFields().contains(f->name())) continue;
      double v = 0;
      switch (f->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
          v = static_cast<double>(r->GetUInt64(s, f));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
          v = static_cast<double>(r->GetInt64(s, f));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
          v = r->GetUInt32(s, f);
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
          v = r->GetBool(s, f) ? 1 : 0;
          break;
        default:
          continue;
      }
      bool counter = CounterFields().contains(f->name());
      std::string name = "shortcut_gateway_" + f->name() + (counter ? "_total" : "");
      w.Family(name, "GetStats' " + f->name() + ".",
               counter ? metrics::Type::kCounter : metrics::Type::kGauge);
      w.Sample(name, {}, v);
    }
  });
  auto hosts = this->hosts;
  registry.AddCollector([hosts](metrics::Writer& w) {
    v1::ListHostsResponse list = hosts();
    struct Column {
      const char* name;
      const char* help;
      double (*value)(const v1::ListHostsResponse::Entry&);
    };
    static const Column kColumns[] = {
        {"shortcut_gateway_host_connected", "Whether the host's OpenFlow session is up.",
         [](const v1::ListHostsResponse::Entry& e) { return e.connected() ? 1.0 : 0.0; }},
        {"shortcut_gateway_host_designated",
         "Whether this gateway programs the host's standing rules.",
         [](const v1::ListHostsResponse::Entry& e) { return e.designated() ? 1.0 : 0.0; }},
        {"shortcut_gateway_host_flows", "Standing rules desired on the host.",
         [](const v1::ListHostsResponse::Entry& e) { return static_cast<double>(e.flows()); }},
        {"shortcut_gateway_host_tunnels_forwarding",
         "The host's tunnel ports toward gateways that BFD says forward.",
         [](const v1::ListHostsResponse::Entry& e) {
           return static_cast<double>(e.gateway_tunnels_forwarding());
         }},
    };
    for (const Column& c : kColumns) {
      w.Family(c.name, c.help, metrics::Type::kGauge);
      for (const auto& e : list.hosts()) w.Sample(c.name, {{"host", e.host().name()}}, c.value(e));
    }
  });
  return setups;
}

}  // namespace shortcut::gateway
