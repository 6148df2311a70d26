// A client of the management plane's API (shortcut.manager.v1) over one or
// several managerd servers of one database (active and standby), shared by
// shortcutctl and shortcut-cni.
//
// SERVERS: comma-separated; unix:/abs/path or HOST:PORT (tcp:HOST:PORT
// accepted). `tls`: mutual TLS on every channel (src/tls/tls.h); nullopt:
// insecure.
//
// Thread-safety: none; one thread uses a client.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "src/tls/tls.h"

namespace shortcut::ctl {

// One or several managers (`--server a,b,c`): a call goes to the active
// one. With several, the first call asks each in turn for its status until
// one says ACTIVE, and every call then starts with it; a call answered
// UNAVAILABLE (a standby refusing a write, a dead server) moves on to the
// next, and the call fails only when all did, with each one's answer.
class ManagerClient {
 public:
  ManagerClient(const std::string& servers, double timeout_s,
                const std::optional<tls::GrpcTls>& tls = std::nullopt)
      : timeout_s_(timeout_s) {
    for (absl::string_view part : absl::StrSplit(servers, ',', absl::SkipWhitespace())) {
      std::string server(absl::StripAsciiWhitespace(part));
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(-1);
      servers_.push_back(server);
      stubs_.push_back(manager::v1::Manager::NewStub(tls::MakeChannel(server, tls, args)));
    }
  }
  size_t size() const { return stubs_.size(); }
  const std::string& server(size_t i) const { return servers_[i]; }
  manager::v1::Manager::Stub& stub(size_t i) { return *stubs_[i]; }

  // The servers in the order to try them: the active one first.
  std::vector<size_t> Order() {
    if (!discovered_ && stubs_.size() > 1) {
      discovered_ = true;
      for (size_t i = 0; i < stubs_.size(); ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(
                                 std::min<int64_t>(2000, static_cast<int64_t>(timeout_s_ * 1000))));
        manager::v1::ManagerStatus status;
        if (stubs_[i]
                ->GetManagerStatus(&context, manager::v1::GetManagerStatusRequest(), &status)
                .ok() &&
            status.role() == manager::v1::MANAGER_ROLE_ACTIVE) {
          first_ = i;
          break;
        }
      }
    }
    std::vector<size_t> order = {first_};
    for (size_t i = 0; i < stubs_.size(); ++i) {
      if (i != first_) order.push_back(i);
    }
    return order;
  }

  // attempt(stub) on each server in turn, until one answers other than
  // UNAVAILABLE.
  template <typename Attempt>
  grpc::Status Try(Attempt attempt) {
    if (stubs_.size() == 1) return attempt(*stubs_[0]);
    std::vector<std::string> answers;
    for (size_t i : Order()) {
      grpc::Status status = attempt(*stubs_[i]);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
        first_ = i;
        return status;
      }
      answers.push_back(absl::StrCat(servers_[i], ": ", status.error_message()));
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrJoin(answers, "; "));
  }
  // A fresh context with the call's deadline.
  std::unique_ptr<grpc::ClientContext> Context(bool deadline = true) const {
    auto context = std::make_unique<grpc::ClientContext>();
    if (deadline) {
      auto timeout = std::chrono::duration<double>(timeout_s_);
      context->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    }
    return context;
  }

 private:
  double timeout_s_;
  std::vector<std::string> servers_;
  std::vector<std::unique_ptr<manager::v1::Manager::Stub>> stubs_;
  bool discovered_ = false;
  size_t first_ = 0;
};

}  // namespace shortcut::ctl
