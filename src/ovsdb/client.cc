#include "src/ovsdb/client.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/common/status_macros.h"
#include "src/ovsdb/ops.h"

namespace shortcut::ovsdb {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 64 * 1024;
// The id of our keepalive echo; replies to it are only a sign of life.
constexpr char kEchoId[] = "echo";
// monitor_cond_since with no known transaction.
constexpr char kZeroUuid[] = "00000000-0000-0000-0000-000000000000";

Millis Now() { return SystemClock::Get().NowMs(); }

// RFC 7047 error strings (and ovsdb-server's) to status codes, so callers can
// branch on the code; the message keeps the server's text.
absl::StatusCode CodeForError(const Json& error) {
  std::string e;
  if (error.is_string()) {
    e = error.get<std::string>();
  } else if (error.is_object() && error.contains("error") && error["error"].is_string()) {
    e = error["error"].get<std::string>();
  }
  if (e == "constraint violation" || e == "referential integrity violation") {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (e == "timed out") return absl::StatusCode::kDeadlineExceeded;
  if (e == "not owner") return absl::StatusCode::kPermissionDenied;
  if (e == "aborted") return absl::StatusCode::kAborted;
  if (e == "canceled") return absl::StatusCode::kCancelled;
  if (e == "resources exhausted") return absl::StatusCode::kResourceExhausted;
  if (e == "not supported" || e == "unknown method") return absl::StatusCode::kUnimplemented;
  if (e == "unknown database") return absl::StatusCode::kNotFound;
  if (e == "syntax error" || e == "unknown column" || e == "unknown table" ||
      e == "unknown operator" || e == "duplicate uuid-name" || e == "domain error" ||
      e == "range error") {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kUnknown;
}

absl::Status ErrorStatus(const std::string& context, const Json& error) {
  return absl::Status(CodeForError(error), absl::StrCat(context, ": ", DescribeError(error)));
}

absl::Status Malformed(const std::string& method, const Json& result) {
  std::string text = Serialize(result);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return absl::InvalidArgumentError(absl::StrCat(method, ": unexpected reply ", text));
}

}  // namespace

absl::StatusOr<ofconn::Target> ParseOvsdbTarget(std::string_view text) {
  absl::StatusOr<ofconn::Target> target = ofconn::ParseTarget(text);
  if (!target.ok() || target->kind == ofconn::Target::Kind::kUnix) return target;
  std::string_view rest = text.substr(text.find(':') + 1);
  size_t bracket = rest.rfind(']');
  std::string_view tail = bracket == std::string_view::npos ? rest : rest.substr(bracket);
  if (tail.find(':') == std::string_view::npos) target->port = kDefaultOvsdbPort;
  return target;
}

struct OvsdbClient::PendingCall {
  explicit PendingCall(const asio::any_io_executor& ex) : timer(ex) {}
  std::string method;
  bool done = false;
  absl::StatusOr<Json> result;
  asio::steady_timer timer;  // The deadline; cancelled when done.
};

OvsdbClient::OvsdbClient(asio::any_io_executor ex, ofconn::Target target, Options options,
                         std::shared_ptr<ofconn::Stream> stream)
    : ex_(ex),
      target_(std::move(target)),
      name_(target_.ToString()),
      options_(options),
      stream_(std::move(stream)),
      framer_(options.max_message_bytes),
      writer_signal_(ex),
      notify_signal_(ex),
      keepalive_timer_(ex) {}

OvsdbClient::~OvsdbClient() { stream_->Close(); }

asio::awaitable<absl::StatusOr<std::shared_ptr<OvsdbClient>>> OvsdbClient::Connect(
    asio::any_io_executor ex, ofconn::Target target, Options options) {
  CO_ASSIGN_OR_RETURN(std::shared_ptr<ofconn::Stream> stream, ofconn::MakeStream(ex, target));
  std::shared_ptr<OvsdbClient> client(new OvsdbClient(ex, target, options, stream));
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer watchdog(ex, std::chrono::milliseconds(options.connect_timeout));
  watchdog.async_wait([expired, stream](std::error_code ec) {
    if (ec) return;
    *expired = true;
    stream->Close();
  });
  std::error_code ec = co_await stream->Connect();
  watchdog.cancel();
  if (ec || *expired) {
    client->open_ = false;
    if (*expired) {
      co_return absl::DeadlineExceededError(absl::StrCat(
          "connect to ", client->name_, ": not connected within ", options.connect_timeout, " ms"));
    }
    co_return absl::UnavailableError(
        absl::StrCat("connect to ", client->name_, ": ", ec.message()));
  }
  client->last_received_ms_ = Now();
  client->StartLoops();
  spdlog::debug("{}: OVSDB connection established", client->name_);
  co_return client;
}

void OvsdbClient::StartLoops() {
  auto self = shared_from_this();
  asio::co_spawn(ex_, ReadLoop(self), asio::detached);
  asio::co_spawn(ex_, WriteLoop(self), asio::detached);
  if (options_.probe_interval > 0) asio::co_spawn(ex_, KeepaliveLoop(self), asio::detached);
}

asio::awaitable<void> OvsdbClient::ReadLoop([[maybe_unused]] std::shared_ptr<OvsdbClient> self) {
  std::vector<char> buf(kReadChunk);
  while (open_) {
    auto [ec, n] = co_await stream_->ReadSome(asio::buffer(buf.data(), buf.size()));
    if (!open_) break;
    if (ec) {
      std::string why = ec == asio::error::eof ? "the server closed the connection" : ec.message();
      if (framer_.buffered() > 0)
        absl::StrAppend(&why, " (", framer_.buffered(), " bytes of a partial message)");
      CloseWith(absl::UnavailableError(why));
      break;
    }
    last_received_ms_ = Now();
    probe_sent_ms_ = -1;
    framer_.Append(std::string_view(buf.data(), n));
    while (open_) {
      absl::StatusOr<std::optional<Json>> next = framer_.Next();
      if (!next.ok()) {
        CloseWith(next.status());
        break;
      }
      if (!next->has_value()) break;
      Dispatch(std::move(**next));
    }
  }
}

asio::awaitable<void> OvsdbClient::WriteLoop([[maybe_unused]] std::shared_ptr<OvsdbClient> self) {
  while (open_) {
    if (out_.empty()) {
      co_await writer_signal_.Wait();
      continue;
    }
    std::swap(out_, writing_);
    auto [ec, n] = co_await stream_->Write(asio::buffer(writing_));
    if (!open_) break;
    if (ec) {
      CloseWith(absl::UnavailableError(absl::StrCat("write failed: ", ec.message())));
      break;
    }
    writing_.clear();
    // A bulk transaction may have been tens of MB: do not keep that buffer.
    if (writing_.capacity() > (size_t{1} << 20)) writing_.shrink_to_fit();
  }
}

asio::awaitable<void> OvsdbClient::KeepaliveLoop(
    [[maybe_unused]] std::shared_ptr<OvsdbClient> self) {
  const Millis interval = options_.probe_interval;
  while (open_) {
    Millis now = Now();
    if (probe_sent_ms_ >= 0 && now - probe_sent_ms_ >= interval) {
      CloseWith(
          absl::UnavailableError(absl::StrCat("nothing received from the server for ",
                                              now - last_received_ms_, " ms, echo unanswered")));
      co_return;
    }
    if (probe_sent_ms_ < 0 && now - last_received_ms_ >= interval) {
      Send(Message::Request("echo", Json::array(), Json(kEchoId)));
      probe_sent_ms_ = now;
    }
    Millis wake = probe_sent_ms_ >= 0 ? probe_sent_ms_ + interval : last_received_ms_ + interval;
    keepalive_timer_.expires_after(std::chrono::milliseconds(std::max<Millis>(wake - now, 1)));
    co_await keepalive_timer_.async_wait(kTuple);
  }
}

void OvsdbClient::Dispatch(Json json) {
  absl::StatusOr<Message> parsed = ParseMessage(json);
  if (!parsed.ok()) {
    CloseWith(parsed.status());
    return;
  }
  Message& m = *parsed;
  switch (m.type) {
    case Message::Type::kRequest:
      if (m.method == "echo") {
        ++echo_requests_answered_;
        Send(Message::Reply(std::move(m.params), std::move(m.id)));
      } else {
        Send(Message::Error(Json("unknown method"), std::move(m.id)));
      }
      return;
    case Message::Type::kNotification:
      if (notifications_.size() >= options_.max_notifications) {
        CloseWith(absl::ResourceExhaustedError(
            absl::StrCat("more than ", options_.max_notifications,
                         " notifications queued and not read; closed rather than drop one")));
        return;
      }
      notifications_.push_back(Notification{std::move(m.method), std::move(m.params)});
      notify_signal_.Notify();
      return;
    case Message::Type::kReply:
    case Message::Type::kError:
      break;
  }
  if (!m.id.is_number_integer()) return;  // Our echo, or not ours.
  auto it = pending_.find(m.id.get<int64_t>());
  if (it == pending_.end()) return;  // Timed out already.
  std::shared_ptr<PendingCall> call = std::move(it->second);
  pending_.erase(it);
  call->done = true;
  if (m.type == Message::Type::kReply) {
    call->result = std::move(m.result);
  } else {
    call->result = ErrorStatus(call->method, m.error);
  }
  call->timer.cancel();
}

void OvsdbClient::Send(const Message& message) {
  if (!open_) return;
  out_ += Serialize(message);
  writer_signal_.Notify();
}

absl::Status OvsdbClient::ClosedError() const {
  return absl::UnavailableError(
      absl::StrCat(name_, ": OVSDB connection closed: ", close_reason_.message()));
}

void OvsdbClient::CloseWith(absl::Status why) {
  if (!open_) return;
  open_ = false;
  close_reason_ = std::move(why);
  if (!close_reason_.ok() && !absl::IsCancelled(close_reason_)) {
    spdlog::warn("{}: OVSDB connection closed: {}", name_, std::string(close_reason_.message()));
  }
  stream_->Close();
  keepalive_timer_.cancel();
  writer_signal_.Notify();
  notify_signal_.Notify();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, call] : pending) {
    call->done = true;
    call->result =
        absl::UnavailableError(absl::StrCat(call->method, ": ", ClosedError().message()));
    call->timer.cancel();
  }
}

void OvsdbClient::Close() { CloseWith(absl::CancelledError("closed by the client")); }

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::Call(std::string method, Json params,
                                                        Millis timeout) {
  int64_t id = ReserveId();
  co_return co_await CallWithId(id, std::move(method), std::move(params), timeout);
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::CallWithId(int64_t id, std::string method,
                                                              Json params, Millis timeout) {
  if (!open_) co_return absl::UnavailableError(absl::StrCat(method, ": ", ClosedError().message()));
  if (pending_.contains(id)) {
    co_return absl::AlreadyExistsError(absl::StrCat(method, ": call id ", id, " already pending"));
  }
  auto call = std::make_shared<PendingCall>(ex_);
  call->method = method;
  call->timer.expires_after(std::chrono::milliseconds(std::max<Millis>(timeout, 0)));
  pending_[id] = call;
  Send(Message::Request(std::move(method), std::move(params), Json(id)));
  co_return co_await AwaitReply(id, std::move(call), timeout);
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::CallText(std::string method,
                                                            std::string params_json,
                                                            Millis timeout) {
  if (!open_) co_return absl::UnavailableError(absl::StrCat(method, ": ", ClosedError().message()));
  int64_t id = ReserveId();
  auto call = std::make_shared<PendingCall>(ex_);
  call->method = method;
  call->timer.expires_after(std::chrono::milliseconds(std::max<Millis>(timeout, 0)));
  pending_[id] = call;
  std::string head =
      absl::StrCat("{\"id\":", id, ",\"method\":", Serialize(Json(method)), ",\"params\":");
  if (out_.empty()) out_.reserve(head.size() + params_json.size() + 1);
  out_ += head;
  out_ += params_json;
  out_ += "}";
  writer_signal_.Notify();
  params_json.clear();
  params_json.shrink_to_fit();
  co_return co_await AwaitReply(id, std::move(call), timeout);
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::AwaitReply(int64_t id,
                                                              std::shared_ptr<PendingCall> call,
                                                              Millis timeout) {
  co_await call->timer.async_wait(kTuple);
  if (!call->done) {
    pending_.erase(id);
    co_return absl::DeadlineExceededError(
        absl::StrCat(call->method, ": no reply from ", name_, " within ", timeout, " ms"));
  }
  co_return std::move(call->result);
}

absl::Status OvsdbClient::Cancel(int64_t id) {
  if (!open_) return ClosedError();
  // Completed here rather than on the server's "canceled" reply, which
  // ovsdb-server 3.1 does not send; a late reply finds no pending call.
  auto it = pending_.find(id);
  if (it != pending_.end()) {
    std::shared_ptr<PendingCall> call = std::move(it->second);
    pending_.erase(it);
    call->done = true;
    call->result = absl::CancelledError(absl::StrCat(call->method, ": canceled by the client"));
    call->timer.cancel();
  }
  Json params = Json::array({id});
  Send(Message::Notification("cancel", std::move(params)));
  return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::vector<std::string>>> OvsdbClient::ListDbs() {
  Json params = Json::array();
  CO_ASSIGN_OR_RETURN(Json result,
                      co_await Call("list_dbs", std::move(params), options_.call_timeout));
  if (!result.is_array()) co_return Malformed("list_dbs", result);
  std::vector<std::string> dbs;
  for (const Json& db : result) {
    if (!db.is_string()) co_return Malformed("list_dbs", result);
    dbs.push_back(db.get<std::string>());
  }
  co_return dbs;
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::GetSchema(std::string db) {
  Json params = Json::array({db});
  CO_ASSIGN_OR_RETURN(Json result,
                      co_await Call("get_schema", std::move(params), options_.call_timeout));
  if (!result.is_object()) co_return Malformed("get_schema", result);
  co_return result;
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::Transact(std::string db, Json ops) {
  if (!ops.is_array()) {
    co_return absl::InvalidArgumentError("transact: operations must be a JSON array");
  }
  Json params = Json::array({db});
  for (const Json& op : ops) params.push_back(op);
  CO_ASSIGN_OR_RETURN(Json results,
                      co_await Call("transact", std::move(params), options_.call_timeout));
  if (!results.is_array()) co_return Malformed("transact", results);
  for (size_t i = 0; i < results.size(); ++i) {
    const Json& r = results[i];
    if (!r.is_object() || !r.contains("error")) continue;
    std::string where = i < ops.size()
                            ? absl::StrCat("transact op ", i, " (", DescribeOp(ops[i]), ")")
                            : std::string("transact commit");
    co_return ErrorStatus(where, r);
  }
  co_return results;
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::Echo(Json params) {
  co_return co_await Call("echo", std::move(params), options_.call_timeout);
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::Monitor(std::string db, Json monitor_id,
                                                           Json requests) {
  Json params = Json::array({db, std::move(monitor_id), std::move(requests)});
  CO_ASSIGN_OR_RETURN(Json result,
                      co_await Call("monitor", std::move(params), options_.call_timeout));
  if (!result.is_object()) co_return Malformed("monitor", result);
  co_return result;
}

asio::awaitable<absl::StatusOr<Json>> OvsdbClient::MonitorCond(std::string db, Json monitor_id,
                                                               Json requests) {
  Json params = Json::array({db, std::move(monitor_id), std::move(requests)});
  CO_ASSIGN_OR_RETURN(Json result,
                      co_await Call("monitor_cond", std::move(params), options_.call_timeout));
  if (!result.is_object()) co_return Malformed("monitor_cond", result);
  co_return result;
}

asio::awaitable<absl::StatusOr<MonitorSinceResult>> OvsdbClient::MonitorCondSince(
    std::string db, Json monitor_id, Json requests, std::string last_txn_id) {
  if (last_txn_id.empty()) last_txn_id = kZeroUuid;
  Json params = Json::array({db, std::move(monitor_id), std::move(requests), last_txn_id});
  CO_ASSIGN_OR_RETURN(
      Json result, co_await Call("monitor_cond_since", std::move(params), options_.call_timeout));
  if (!result.is_array() || result.size() != 3 || !result[0].is_boolean() ||
      !result[1].is_string() || !result[2].is_object()) {
    co_return Malformed("monitor_cond_since", result);
  }
  MonitorSinceResult out;
  out.found = result[0].get<bool>();
  out.last_txn_id = result[1].get<std::string>();
  out.updates = std::move(result[2]);
  co_return out;
}

asio::awaitable<absl::Status> OvsdbClient::MonitorCondChange(Json monitor_id, Json new_id,
                                                             Json change_requests) {
  Json params = Json::array({std::move(monitor_id), std::move(new_id), std::move(change_requests)});
  auto result = co_await Call("monitor_cond_change", std::move(params), options_.call_timeout);
  co_return result.status();
}

asio::awaitable<absl::Status> OvsdbClient::MonitorCancel(Json monitor_id) {
  Json params = Json::array({std::move(monitor_id)});
  auto result = co_await Call("monitor_cancel", std::move(params), options_.call_timeout);
  co_return result.status();
}

asio::awaitable<absl::StatusOr<bool>> OvsdbClient::Lock(std::string lock_id) {
  Json params = Json::array({lock_id});
  CO_ASSIGN_OR_RETURN(Json result, co_await Call("lock", std::move(params), options_.call_timeout));
  if (!result.is_object() || !result.contains("locked") || !result["locked"].is_boolean()) {
    co_return Malformed("lock", result);
  }
  co_return result["locked"].get<bool>();
}

asio::awaitable<absl::Status> OvsdbClient::Steal(std::string lock_id) {
  Json params = Json::array({lock_id});
  auto result = co_await Call("steal", std::move(params), options_.call_timeout);
  co_return result.status();
}

asio::awaitable<absl::Status> OvsdbClient::Unlock(std::string lock_id) {
  Json params = Json::array({lock_id});
  auto result = co_await Call("unlock", std::move(params), options_.call_timeout);
  co_return result.status();
}

asio::awaitable<absl::StatusOr<Notification>> OvsdbClient::NextNotification() {
  while (notifications_.empty() && open_) co_await notify_signal_.Wait();
  if (notifications_.empty()) co_return ClosedError();
  Notification n = std::move(notifications_.front());
  notifications_.pop_front();
  co_return n;
}

}  // namespace shortcut::ovsdb
