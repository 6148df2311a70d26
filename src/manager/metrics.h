// shortcut-managerd's Prometheus metrics (its config's `metrics` address):
//   shortcut_manager_active                 1 while this manager holds the lock
//   shortcut_manager_{hosts,vpcs,clusters,vpcs_moving}
//   shortcut_manager_endpoints{status}      pending / online
//   shortcut_manager_gateways{state,role}   role "spare" outside clusters
//   shortcut_manager_cluster_{members,serving_members,vms,capacity_vms}{cluster}
//   shortcut_manager_vm_online_seconds      CreateEndpoint or a move to ONLINE
//   shortcut_manager_api_request_duration_seconds{method,code}
//   shortcut_manager_api_refused_total{limit}  calls refused by api_limits
//   shortcut_manager_api_in_flight{kind}       calls / watchers admitted now
// The state's figures are read from the replica at every scrape (the
// collector runs on the daemon's io_context, which owns it); the API's
// durations come from a gRPC server interceptor (ApiInterceptors), on
// gRPC's threads (histograms are atomic).
//
// Thread-safety: as stated per function.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <vector>

#include "src/manager/nb.h"
#include "src/manager/service.h"
#include "src/metrics/metrics.h"

namespace shortcut::manager {

struct ManagerMetrics {
  metrics::Histogram* vm_online = nullptr;
  metrics::Family<metrics::Histogram>* api = nullptr;
};

// Registers everything; `state` and `active` are read at each scrape.
ManagerMetrics AddManagerMetrics(metrics::Registry& registry, std::function<const NbState&()> state,
                                 std::function<bool()> active);

// The API's admission counters (ManagerService::api_counters, any thread).
void AddApiAdmissionMetrics(metrics::Registry& registry,
                            std::function<ManagerService::ApiCounters()> counters);

// Interceptors for grpc::ServerBuilder that time every call into `api`.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> ApiInterceptors(
    metrics::Family<metrics::Histogram>* api);

}  // namespace shortcut::manager
