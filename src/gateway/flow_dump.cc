#include "src/gateway/flow_dump.h"

#include "src/common/status_macros.h"

namespace shortcut::gateway {

asio::awaitable<absl::StatusOr<std::vector<of::FlowStats>>> DumpFlows(ofconn::Connection& conn,
                                                                      of::FlowStatsRequest request,
                                                                      Millis timeout) {
  of::Message msg{of::kVersion13, 0, of::MultipartRequest{0, std::move(request)}};
  CO_ASSIGN_OR_RETURN(std::vector<of::Message> parts,
                      co_await conn.CallMultipart(std::move(msg), timeout));
  std::vector<of::FlowStats> out;
  for (of::Message& part : parts) {
    auto* reply = std::get_if<of::MultipartReply>(&part.body);
    auto* flows = reply ? std::get_if<std::vector<of::FlowStats>>(&reply->body) : nullptr;
    if (flows == nullptr) co_return absl::InternalError("unexpected reply to a flow dump");
    for (of::FlowStats& f : *flows) out.push_back(std::move(f));
  }
  co_return out;
}

}  // namespace shortcut::gateway
