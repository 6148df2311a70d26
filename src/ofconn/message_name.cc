#include "src/ofconn/message_name.h"

#include <array>
#include <string_view>
#include <variant>

namespace shortcut::ofconn {
namespace {

// Indexed like of::MessageBody's alternatives.
constexpr std::array<std::string_view, 24> kBodyNames = {
    "OFPT_HELLO",
    "OFPT_ERROR",
    "OFPT_ECHO_REQUEST",
    "OFPT_ECHO_REPLY",
    "OFPT_FEATURES_REQUEST",
    "OFPT_FEATURES_REPLY",
    "OFPT_GET_CONFIG_REQUEST",
    "OFPT_GET_CONFIG_REPLY",
    "OFPT_SET_CONFIG",
    "OFPT_PORT_STATUS",
    "OFPT_PACKET_IN",
    "OFPT_PACKET_OUT",
    "OFPT_FLOW_MOD",
    "OFPT_FLOW_REMOVED",
    "OFPT_GROUP_MOD",
    "OFPT_METER_MOD",
    "OFPT_MULTIPART_REQUEST",
    "OFPT_MULTIPART_REPLY",
    "OFPT_BARRIER_REQUEST",
    "OFPT_BARRIER_REPLY",
    "OFPT_ROLE_REQUEST",
    "OFPT_ROLE_REPLY",
    "ONFT_BUNDLE_CONTROL",
    "ONFT_BUNDLE_ADD_MESSAGE",
};
static_assert(kBodyNames.size() == std::variant_size_v<of::MessageBody>);

// Indexed like MultipartRequest::body / MultipartReply::body.
constexpr std::array<std::string_view, 6> kMultipartNames = {
    "OFPST_FLOW",         "OFPST_GROUP_DESC",     "OFPST_GROUP_FEATURES",
    "OFPST_METER_CONFIG", "OFPST_METER_FEATURES", "OFPST_PORT_DESC",
};

}  // namespace

std::string MessageName(const of::MessageBody& body) {
  if (const auto* req = std::get_if<of::MultipartRequest>(&body)) {
    return std::string(kMultipartNames[req->body.index()]) + " request";
  }
  if (const auto* rep = std::get_if<of::MultipartReply>(&body)) {
    return std::string(kMultipartNames[rep->body.index()]) + " reply";
  }
  return std::string(kBodyNames[body.index()]);
}

}  // namespace shortcut::ofconn
