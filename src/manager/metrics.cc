#include "src/manager/metrics.h"

#include <chrono>
#include <map>
#include <string>

#include "src/manager/cluster_mgmt.h"
#include "src/manager/nb_rows.h"

namespace shortcut::manager {
namespace {

const char* CodeName(grpc::StatusCode c) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int i = static_cast<int>(c);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

class ApiTimer : public grpc::experimental::Interceptor {
 public:
  ApiTimer(grpc::experimental::ServerRpcInfo* info, metrics::Family<metrics::Histogram>* api)
      : api_(api), method_(info->method()), start_(std::chrono::steady_clock::now()) {
    if (method_.starts_with("/")) method_.erase(0, 1);
  }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
      api_->With({method_, CodeName(methods->GetSendStatus().error_code())}).Observe(took.count());
    }
    methods->Proceed();
  }

 private:
  metrics::Family<metrics::Histogram>* api_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

class ApiTimerFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ApiTimerFactory(metrics::Family<metrics::Histogram>* api) : api_(api) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ApiTimer(info, api_);
  }

 private:
  metrics::Family<metrics::Histogram>* api_;
};

}  // namespace

void AddApiAdmissionMetrics(metrics::Registry& registry,
                            std::function<ManagerService::ApiCounters()> counters) {
  registry.AddCollector([counters](metrics::Writer& w) {
    ManagerService::ApiCounters c = counters();
    const char* refused = "shortcut_manager_api_refused_total";
    w.Family(refused, "API calls refused with RESOURCE_EXHAUSTED by a bound of api_limits.",
             metrics::Type::kCounter);
    w.Sample(refused, {{"limit", "max_calls"}}, static_cast<double>(c.calls_refused));
    w.Sample(refused, {{"limit", "max_streams"}}, static_cast<double>(c.streams_refused));
    w.Sample(refused, {{"limit", "max_watchers"}}, static_cast<double>(c.watchers_refused));
    const char* in_flight = "shortcut_manager_api_in_flight";
    w.Family(in_flight, "API calls admitted and not done, and open WatchEndpoints calls.",
             metrics::Type::kGauge);
    w.Sample(in_flight, {{"kind", "calls"}}, static_cast<double>(c.calls_in_flight));
    w.Sample(in_flight, {{"kind", "watchers"}}, static_cast<double>(c.watchers));
  });
}

ManagerMetrics AddManagerMetrics(metrics::Registry& registry, std::function<const NbState&()> state,
                                 std::function<bool()> active) {
  ManagerMetrics m;
  m.vm_online = &registry
                     .AddHistogram("shortcut_manager_vm_online_seconds",
                                   "From CreateEndpoint (or a move) to the endpoint ONLINE: its "
                                   "rules confirmed on its host.",
                                   metrics::ExponentialBuckets(0.001, 2, 14))
                     .With({});
  m.api = &registry.AddHistogram("shortcut_manager_api_request_duration_seconds",
                                 "API calls, from arrival to status, by method and code.",
                                 metrics::ExponentialBuckets(0.0005, 4, 10), {"method", "code"});
  registry.AddCollector([state, active](metrics::Writer& w) {
    const NbState& s = state();
    auto gauge = [&w](const char* name, const char* help, double v) {
      w.Family(name, help, metrics::Type::kGauge);
      w.Sample(name, {}, v);
    };
    gauge("shortcut_manager_active", "1 while this manager holds the database lock (active).",
          active() ? 1 : 0);
    gauge("shortcut_manager_hosts", "Hosts registered.", static_cast<double>(s.hosts.size()));
    gauge("shortcut_manager_vpcs", "VPCs.", static_cast<double>(s.vpcs.size()));
    gauge("shortcut_manager_clusters", "Gateway clusters.", static_cast<double>(s.clusters.size()));
    size_t moving = 0;
    for (const auto& [id, v] : s.vpcs) moving += v.moving_to != 0;
    gauge("shortcut_manager_vpcs_moving", "VPCs moving between clusters.",
          static_cast<double>(moving));
    // Every table always, so that an alert on > 0 has a series to watch.
    std::map<std::string, size_t> refused = {{"Endpoint", s.rejected_endpoints.size()},
                                             {"Gateway", 0},
                                             {"Host", 0},
                                             {"Network", 0},
                                             {"Vpc", 0}};
    for (const auto& [uuid, r] : s.refused_rows) ++refused[r.table];
    const char* refused_name = "shortcut_manager_rows_refused";
    w.Family(refused_name,
             "Rows of the database not used: a value no API call would write, or a reference "
             "to a row not in use (written outside the API).",
             metrics::Type::kGauge);
    for (const auto& [table, n] : refused) {
      w.Sample(refused_name, {{"table", table}}, static_cast<double>(n));
    }

    std::map<std::string, size_t> by_status;
    for (EndpointStatus st : {EndpointStatus::kPending, EndpointStatus::kOnline}) {
      by_status[EndpointStatusName(st)] = 0;
    }
    for (const auto& [key, e] : s.endpoints) ++by_status[EndpointStatusName(e.status)];
    w.Family("shortcut_manager_endpoints", "Endpoints, by status.", metrics::Type::kGauge);
    for (const auto& [st, n] : by_status) {
      w.Sample("shortcut_manager_endpoints", {{"status", st}}, static_cast<double>(n));
    }

    std::map<std::pair<std::string, std::string>, size_t> gws;
    for (const auto& [name, g] : s.gateways) {
      ++gws[{GatewayStateName(g.state), g.cluster_id == 0 ? "spare" : GatewayRoleName(g.role)}];
    }
    w.Family("shortcut_manager_gateways", "Gateways, by state and role.", metrics::Type::kGauge);
    for (const auto& [k, n] : gws) {
      w.Sample("shortcut_manager_gateways", {{"state", k.first}, {"role", k.second}},
               static_cast<double>(n));
    }

    std::vector<cluster::ClusterLoad> loads = cluster::ClusterLoads(s, {});
    std::map<uint32_t, size_t> serving;
    for (const auto& [name, g] : s.gateways) {
      if (g.cluster_id != 0 && g.role == GatewayRole::kServing) ++serving[g.cluster_id];
    }
    struct Column {
      const char* name;
      const char* help;
    };
    const Column columns[] = {
        {"shortcut_manager_cluster_members", "Members of the cluster, whatever their role."},
        {"shortcut_manager_cluster_serving_members", "Members in the cluster's buckets."},
        {"shortcut_manager_cluster_vms", "Endpoints of the VPCs the cluster serves (or receives)."},
        {"shortcut_manager_cluster_capacity_vms", "The capacity of its live members, in VMs."},
    };
    for (size_t c = 0; c < std::size(columns); ++c) {
      w.Family(columns[c].name, columns[c].help, metrics::Type::kGauge);
      for (const cluster::ClusterLoad& l : loads) {
        double v = c == 0   ? static_cast<double>(l.members)
                   : c == 1 ? static_cast<double>(serving[l.id])
                   : c == 2 ? static_cast<double>(l.load)
                            : static_cast<double>(l.capacity);
        w.Sample(columns[c].name, {{"cluster", std::to_string(l.id)}}, v);
      }
    }
  });
  return m;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> ApiInterceptors(
    metrics::Family<metrics::Histogram>* api) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<ApiTimerFactory>(api));
  return out;
}

}  // namespace shortcut::manager
