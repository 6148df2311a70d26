// GrpcGatewayClient: GatewayClient over gRPC (shortcut.gateway.v1).
//
// Why a thread pool: gRPC's synchronous stub is the simplest complete API
// (the AddVpc client stream included), but it blocks. Each call therefore
// runs on a small pool of threads (GrpcCallPool) and its result is posted
// back to the calling coroutine's executor, so the io_context thread never
// blocks and nothing of the driver is touched off its executor. gRPC's
// callback API would avoid the threads but needs a reactor per stream; a
// gateway gets at most a few calls at a time from the driver (one change
// loop, one poll), so a few threads are enough. Every call has a deadline
// and does not wait for a channel to become ready (an unreachable gateway
// fails fast with Unavailable), so a dead gateway holds a thread for at
// most one deadline.
//
// Outcomes the gateway reports as errors but which mean "applied, pending on
// a host" (UNAVAILABLE "... is stored but pending: ..." from any change:
// endpoints, VPCs and networks added or deleted, a standby flag, a cluster
// whose direct-path invalidation a host did not confirm, which the gateway
// retries itself; a SetCluster accepted whose host programming failed,
// whose message starts with "host ") are returned as OK: see
// gateway_client.h.
//
// Thread-safety: GrpcCallPool is thread-safe; a client is used from one
// executor. The pool must outlive the clients and their calls: destroy (or
// Join) it before the io_context.
#pragma once

#include <asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>

#include "src/common/clock.h"
#include "src/manager/gateway_client.h"
#include "src/tls/tls.h"

namespace shortcut::manager {

class GrpcCallPool {
 public:
  explicit GrpcCallPool(size_t threads = 4) : pool_(threads) {}
  ~GrpcCallPool() { pool_.join(); }
  void Join() { pool_.join(); }
  asio::thread_pool& pool() { return pool_; }

 private:
  asio::thread_pool pool_;
};

struct GrpcGatewayClientOptions {
  Millis call_deadline = 15000;   // Above the gateway's own host timeout (5 s).
  Millis load_deadline = 300000;  // AddVpc: a whole VPC.
  // Mutual TLS toward gateways; nullopt: insecure. The name a gateway's
  // certificate must carry: tls->server_name, else the gateway's name.
  std::optional<tls::GrpcTls> tls;
};

// `name`: the gateway's name (the TLS server name by default).
std::unique_ptr<GatewayClient> MakeGrpcGatewayClient(GrpcCallPool& pool, const std::string& name,
                                                     const std::string& address,
                                                     GrpcGatewayClientOptions options = {});

// A factory for the driver, over one pool.
GatewayClientFactory GrpcGatewayClientFactory(GrpcCallPool& pool,
                                              GrpcGatewayClientOptions options = {});

}  // namespace shortcut::manager
