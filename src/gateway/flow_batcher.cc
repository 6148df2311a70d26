#include "src/gateway/flow_batcher.h"

#include "absl/strings/str_cat.h"
#include "src/openflow/codec.h"
#include "src/openflow/errors.h"

namespace shortcut::gateway {

FlowBatcher::FlowBatcher(asio::any_io_executor ex, Millis barrier_timeout)
    : timeout_(barrier_timeout), flushed_(ex) {}

asio::awaitable<absl::Status> FlowBatcher::Send(std::shared_ptr<ofconn::Connection> conn,
                                                std::vector<of::FlowMod> mods) {
  if (conn == nullptr || !conn->is_open()) {
    co_return absl::UnavailableError("not connected");
  }
  if (queue_.empty() || queue_.back()->sending || queue_.back()->conn != conn) {
    queue_.push_back(std::make_shared<Batch>());
    queue_.back()->conn = conn;
  }
  std::shared_ptr<Batch> batch = queue_.back();
  const size_t me = batch->results.size();
  batch->results.emplace_back();
  for (of::FlowMod& mod : mods) {
    of::Message msg;
    msg.xid = conn->NextXid();
    msg.body = std::move(mod);
    absl::Status encoded = of::Encode(msg, batch->bytes);
    if (!encoded.ok()) {
      // Shortcut built this flow_mod; an unencodable one is its bug, but it
      // fails only its caller.
      batch->results[me] = encoded;
      continue;
    }
    conn->Track(msg.xid);
    batch->owner.emplace(msg.xid, me);
    ++batch->mods;
  }
  while (!batch->done) {
    if (!flushing_) {
      flushing_ = true;
      co_await Flush();
      flushing_ = false;
      flushed_.Notify();
    } else {
      co_await flushed_.Wait();
    }
  }
  co_return batch->results[me];
}

asio::awaitable<void> FlowBatcher::Flush() {
  if (queue_.empty()) co_return;
  std::shared_ptr<Batch> b = queue_.front();
  b->sending = true;
  std::shared_ptr<ofconn::Connection> conn = b->conn;
  absl::Status status;
  if (!b->bytes.empty()) status = co_await conn->SendEncoded(std::move(b->bytes));
  if (status.ok()) status = co_await conn->Barrier(timeout_);
  if (!status.ok()) {
    for (absl::Status& r : b->results) {
      if (r.ok()) r = status;
    }
    counters_.lost += b->mods;
  } else {
    auto errors = conn->TakeTrackedErrors([&](uint32_t xid) { return b->owner.contains(xid); });
    for (const auto& [xid, error] : errors) {
      absl::Status& r = b->results[b->owner[xid]];
      if (r.ok()) r = ofconn::ErrorStatus(error, absl::StrCat("flow_mod xid ", xid));
    }
    ++counters_.batches;
    counters_.rejected += errors.size();
    counters_.flow_mods += b->mods - errors.size();
    counters_.largest_batch = std::max<uint64_t>(counters_.largest_batch, b->mods);
  }
  b->done = true;
  queue_.pop_front();
}

}  // namespace shortcut::gateway
