#include "src/ofconn/session.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "spdlog/spdlog.h"

namespace shortcut::ofconn {
Session::Session(asio::any_io_executor ex, Target target, Options options, const Clock& clock)
    : ex_(ex),
      target_(std::move(target)),
      options_(options),
      clock_(clock),
      fsm_(Reconnect::Options{.min_backoff = options.min_backoff,
                              .max_backoff = options.max_backoff,
                              .probe_interval = 0}),
      timer_(ex, clock),
      connected_signal_(ex) {}

std::shared_ptr<Session> Session::Start(asio::any_io_executor ex, Target target, Options options,
                                        const Clock& clock) {
  std::shared_ptr<Session> session(new Session(ex, std::move(target), options, clock));
  asio::co_spawn(ex, session->Run(session), asio::detached);
  return session;
}

void Session::Stop() {
  if (stopped_) return;
  stopped_ = true;
  fsm_.Disable(clock_.NowMs());
  if (connection_) connection_->Close();
  timer_.Cancel();
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
  fsm_.Enable(clock_.NowMs());
  while (!stopped_) {
    if (fsm_.Run(clock_.NowMs()) == ReconnectAction::kConnect) {
      fsm_.Connecting(clock_.NowMs());
      ++attempts_;
      auto conn = co_await Connection::Connect(ex_, target_, options_.connection, clock_);
      if (stopped_) {
        if (conn.ok()) (*conn)->Close();
        break;
      }
      if (!conn.ok()) {
        fsm_.ConnectFailed(clock_.NowMs(), conn.status());
        spdlog::warn("{}: {}; retrying in {} ms", target_.ToString(),
                     std::string(conn.status().message()), fsm_.backoff());
        continue;
      }
      connection_ = *std::move(conn);
      ++generation_;
      fsm_.Connected(clock_.NowMs());
      connected_signal_.Notify();
      absl::Status why = co_await connection_->WaitClosed();
      fsm_.Activity(connection_->last_received_ms());
      connection_.reset();
      if (stopped_) break;
      fsm_.Disconnected(clock_.NowMs(), why);
      spdlog::warn("{}: disconnected ({}); reconnecting in {} ms", target_.ToString(),
                   std::string(why.message()), fsm_.backoff());
      continue;
    }
    Millis wait = fsm_.Timeout(clock_.NowMs());
    timer_.ExpiresAfter(wait < 0 ? 3600 * 1000 : wait);
    co_await timer_.Wait();
  }
}

}  // namespace shortcut::ofconn
