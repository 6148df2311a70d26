#include "src/ovsdb/jsonrpc.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace shortcut::ovsdb {
namespace {

absl::Status Invalid(std::string why) { return absl::InvalidArgumentError(why); }

// For error messages: the start of a JSON text, never a whole megabyte.
std::string Excerpt(const Json& json) {
  constexpr size_t kMax = 200;
  std::string text = Serialize(json);
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

}  // namespace

Message Message::Request(std::string method, Json params, Json id) {
  Message m;
  m.type = Type::kRequest;
  m.method = std::move(method);
  m.params = std::move(params);
  m.id = std::move(id);
  return m;
}

Message Message::Notification(std::string method, Json params) {
  Message m;
  m.type = Type::kNotification;
  m.method = std::move(method);
  m.params = std::move(params);
  return m;
}

Message Message::Reply(Json result, Json id) {
  Message m;
  m.type = Type::kReply;
  m.result = std::move(result);
  m.id = std::move(id);
  return m;
}

Message Message::Error(Json error, Json id) {
  Message m;
  m.type = Type::kError;
  m.error = std::move(error);
  m.id = std::move(id);
  return m;
}

absl::StatusOr<Message> ParseMessage(const Json& json) {
  if (!json.is_object()) {
    return Invalid(absl::StrCat("JSON-RPC message is not an object: ", Excerpt(json)));
  }
  auto method = json.find("method");
  auto params = json.find("params");
  auto id = json.find("id");
  auto result = json.find("result");
  auto error = json.find("error");
  Json id_value = id == json.end() ? Json() : *id;
  if (method != json.end()) {
    if (!method->is_string()) {
      return Invalid(absl::StrCat("JSON-RPC method is not a string: ", Excerpt(json)));
    }
    if (params == json.end() || !params->is_array()) {
      return Invalid(absl::StrCat("JSON-RPC request \"", method->get_ref<const std::string&>(),
                                  "\" lacks a params array"));
    }
    if (result != json.end() || error != json.end()) {
      return Invalid(absl::StrCat("JSON-RPC request has result or error: ", Excerpt(json)));
    }
    if (id_value.is_null()) {
      return Message::Notification(method->get<std::string>(), *params);
    }
    return Message::Request(method->get<std::string>(), *params, std::move(id_value));
  }
  if (result == json.end() && error == json.end()) {
    return Invalid(
        absl::StrCat("JSON-RPC message has neither method, result nor error: ", Excerpt(json)));
  }
  if (id == json.end()) {
    return Invalid(absl::StrCat("JSON-RPC reply without id: ", Excerpt(json)));
  }
  if (error != json.end() && !error->is_null()) {
    return Message::Error(*error, std::move(id_value));
  }
  if (result == json.end()) {
    return Invalid(absl::StrCat("JSON-RPC reply with null error and no result: ", Excerpt(json)));
  }
  return Message::Reply(*result, std::move(id_value));
}

Json ToJson(const Message& m) {
  Json out = Json::object();
  switch (m.type) {
    case Message::Type::kRequest:
    case Message::Type::kNotification:
      out["method"] = m.method;
      out["params"] = m.params.is_null() ? Json::array() : m.params;
      out["id"] = m.type == Message::Type::kRequest ? m.id : Json();
      break;
    case Message::Type::kReply:
      out["result"] = m.result;
      out["error"] = nullptr;
      out["id"] = m.id;
      break;
    case Message::Type::kError:
      out["result"] = nullptr;
      out["error"] = m.error;
      out["id"] = m.id;
      break;
  }
  return out;
}

std::string Serialize(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Serialize(const Message& message) { return Serialize(ToJson(message)); }

std::string DescribeError(const Json& error) {
  if (error.is_string()) return error.get<std::string>();
  if (error.is_object()) {
    auto e = error.find("error");
    if (e != error.end() && e->is_string()) {
      std::string text = e->get<std::string>();
      auto details = error.find("details");
      if (details != error.end() && details->is_string()) {
        absl::StrAppend(&text, ": ", details->get<std::string>());
      }
      return text;
    }
  }
  return Excerpt(error);
}

void JsonFramer::Append(std::string_view data) {
  if (!error_.ok()) return;
  // Drop what was consumed once it dominates the buffer, so a long-lived
  // stream does not keep every message it ever received.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buffer_.append(data.data(), data.size());
}

absl::Status JsonFramer::Fail(std::string why) {
  error_ = absl::InvalidArgumentError(std::move(why));
  return error_;
}

absl::StatusOr<std::optional<Json>> JsonFramer::Next() {
  if (!error_.ok()) return error_;
  while (scan_ < buffer_.size()) {
    char c = buffer_[scan_];
    if (!in_value_) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        start_ = ++scan_;
        continue;
      }
      if (c != '{' && c != '[') {
        return Fail(
            absl::StrCat("JSON-RPC stream: expected '{' or '[' at the start of a message, "
                         "got byte 0x",
                         absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2)));
      }
      in_value_ = true;
      start_ = scan_;
    }
    ++scan_;
    if (scan_ - start_ > max_message_bytes_) {
      return Fail(absl::StrCat("JSON-RPC stream: message exceeds ", max_message_bytes_, " bytes"));
    }
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > kMaxJsonDepth) {
        return Fail(absl::StrCat("JSON-RPC stream: nesting deeper than ", kMaxJsonDepth));
      }
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        std::string_view text(buffer_.data() + start_, scan_ - start_);
        Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
        in_value_ = false;
        start_ = scan_;
        if (value.is_discarded()) {
          std::string head(text.substr(0, 80));
          return Fail(
              absl::StrCat("JSON-RPC stream: invalid JSON: ", head, text.size() > 80 ? "..." : ""));
        }
        return std::optional<Json>(std::move(value));
      }
    }
  }
  return std::optional<Json>();
}

}  // namespace shortcut::ovsdb
