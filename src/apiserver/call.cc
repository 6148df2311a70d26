#include "src/apiserver/call.h"

namespace shortcut::apiserver {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status StreamCutShort(const char* outcome) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("the stream ended without a batch marked last: it may have been "
                                   "cut short, so nothing of it is ",
                                   outcome));
}

grpc::Status Refused(const char* daemon, const char* what, const Admission& admission,
                     const char* setting) {
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      absl::StrCat(daemon, " busy: ", what, " at their limit of ", admission.limit(),
                   " (api_limits.", setting, "); retry with backoff"));
}

}  // namespace shortcut::apiserver
