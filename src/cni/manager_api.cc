#include "src/cni/manager_api.h"

namespace shortcut::cni {
namespace {

namespace v1 = manager::v1;

absl::Status ToStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::unique_ptr<grpc::ClientContext> Context(double seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  return context;
}

}  // namespace

absl::StatusOr<v1::Network> GrpcManager::GetNetwork(const std::string& vpc, const std::string& id) {
  v1::GetNetworkRequest r;
  r.set_vpc(vpc);
  r.set_id(id);
  v1::Network out;
  grpc::Status s = client_.Try(
      [&](v1::Manager::Stub& stub) { return stub.GetNetwork(Context(timeout_s_).get(), r, &out); });
  if (!s.ok()) return ToStatus(s);
  return out;
}

absl::StatusOr<v1::Endpoint> GrpcManager::CreateEndpoint(const v1::Endpoint& endpoint,
                                                         uint32_t online_timeout_ms) {
  v1::CreateEndpointRequest r;
  *r.mutable_endpoint() = endpoint;
  r.set_online_timeout_ms(online_timeout_ms);
  v1::Endpoint out;
  double deadline = timeout_s_ + online_timeout_ms / 1000.0;
  grpc::Status s = client_.Try([&](v1::Manager::Stub& stub) {
    return stub.CreateEndpoint(Context(deadline).get(), r, &out);
  });
  if (!s.ok()) return ToStatus(s);
  return out;
}

absl::StatusOr<v1::Endpoint> GrpcManager::GetEndpoint(const std::string& key) {
  v1::GetEndpointRequest r;
  r.set_key(key);
  v1::Endpoint out;
  grpc::Status s = client_.Try([&](v1::Manager::Stub& stub) {
    return stub.GetEndpoint(Context(timeout_s_).get(), r, &out);
  });
  if (!s.ok()) return ToStatus(s);
  return out;
}

absl::Status GrpcManager::DeleteEndpoint(const std::string& key) {
  v1::DeleteEndpointRequest r;
  r.set_key(key);
  v1::DeleteEndpointResponse out;
  grpc::Status s = client_.Try([&](v1::Manager::Stub& stub) {
    return stub.DeleteEndpoint(Context(timeout_s_).get(), r, &out);
  });
  return ToStatus(s);
}

}  // namespace shortcut::cni
