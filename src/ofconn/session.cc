#include "src/ofconn/session.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "spdlog/spdlog.h"

namespace shortcut::ofconn {
namespace {

Millis Now() { return SystemClock::Get().NowMs(); }

}  // namespace

Session::Session(asio::any_io_executor ex, Target target, Options options)
    : ex_(ex),
      target_(std::move(target)),
      options_(options),
      fsm_(Reconnect::Options{.min_backoff = options.min_backoff,
                              .max_backoff = options.max_backoff,
                              .probe_interval = 0}),
      timer_(ex),
      connected_signal_(ex) {}

std::shared_ptr<Session> Session::Start(asio::any_io_executor ex, Target target, Options options) {
  std::shared_ptr<Session> session(new Session(ex, std::move(target), options));
  asio::co_spawn(ex, session->Run(session), asio::detached);
  return session;
}

void Session::Stop() {
  if (stopped_) return;
  stopped_ = true;
  fsm_.Disable(Now());
  if (connection_) connection_->Close();
  timer_.cancel();
  connected_signal_.Notify();
}

asio::awaitable<absl::StatusOr<std::shared_ptr<Connection>>> Session::NextConnection() {
  auto self = shared_from_this();
  while (!stopped_ && !(connection_ && delivered_ < generation_)) {
    co_await connected_signal_.Wait();
  }
  if (stopped_) co_return absl::CancelledError("OpenFlow session stopped");
  delivered_ = generation_;
  co_return connection_;
}

asio::awaitable<void> Session::Run([[maybe_unused]] std::shared_ptr<Session> self) {
  fsm_.Enable(Now());
  while (!stopped_) {
    if (fsm_.Run(Now()) == ReconnectAction::kConnect) {
      fsm_.Connecting(Now());
      auto conn = co_await Connection::Connect(ex_, target_, options_.connection);
      if (stopped_) {
        if (conn.ok()) (*conn)->Close();
        break;
      }
      if (!conn.ok()) {
        fsm_.ConnectFailed(Now(), conn.status());
        spdlog::warn("{}: {}; retrying in {} ms", target_.ToString(),
                     std::string(conn.status().message()), fsm_.backoff());
        continue;
      }
      connection_ = *std::move(conn);
      ++generation_;
      fsm_.Connected(Now());
      connected_signal_.Notify();
      absl::Status why = co_await connection_->WaitClosed();
      fsm_.Activity(connection_->last_received_ms());
      connection_.reset();
      if (stopped_) break;
      fsm_.Disconnected(Now(), why);
      spdlog::warn("{}: disconnected ({}); reconnecting in {} ms", target_.ToString(),
                   std::string(why.message()), fsm_.backoff());
      continue;
    }
    Millis wait = fsm_.Timeout(Now());
    timer_.expires_after(std::chrono::milliseconds(wait < 0 ? 3600 * 1000 : wait));
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
}

}  // namespace shortcut::ofconn
