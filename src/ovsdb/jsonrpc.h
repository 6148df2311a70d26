// JSON-RPC 1.0 as OVSDB speaks it (RFC 7047 section 4): the message model and
// a framer that splits a byte stream into JSON texts.
//
// OVSDB peers send JSON objects back to back with no delimiter, so the framer
// tracks nesting depth outside strings (and escapes inside them) to find where
// one value ends, then hands that text to nlohmann-json. One message is
// bounded in size and nesting depth; input beyond either, text that is not an
// object or array at top level, or text nlohmann-json rejects is an error
// that sticks: the stream cannot be resynchronised after it.
//
// Nothing here throws: nlohmann-json is called in its non-throwing modes.
//
// Thread-safety: Message is a value; a JsonFramer belongs to one reader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace shortcut::ovsdb {

using Json = nlohmann::json;

inline constexpr size_t kDefaultMaxMessageBytes = size_t{64} << 20;
inline constexpr size_t kMaxJsonDepth = 1000;

struct Message {
  enum class Type { kRequest, kNotification, kReply, kError };
  Type type = Type::kRequest;
  std::string method;  // kRequest, kNotification.
  Json params;         // kRequest, kNotification: an array.
  Json result;         // kReply.
  Json error;          // kError: anything but null.
  Json id;             // kRequest, kReply, kError (null for kNotification).

  static Message Request(std::string method, Json params, Json id);
  static Message Notification(std::string method, Json params);
  static Message Reply(Json result, Json id);
  static Message Error(Json error, Json id);
};

// Classifies a JSON-RPC 1.0 object. InvalidArgument names what is wrong.
absl::StatusOr<Message> ParseMessage(const Json& json);
Json ToJson(const Message& message);
// Compact JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string Serialize(const Json& json);
std::string Serialize(const Message& message);

// The text of a JSON-RPC error value for messages, e.g.
// "constraint violation: ..." for {"error": ..., "details": ...}.
std::string DescribeError(const Json& error);

class JsonFramer {
 public:
  explicit JsonFramer(size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  void Append(std::string_view data);
  // The next complete JSON value, nullopt if more input is needed, or the
  // (sticky) error.
  absl::StatusOr<std::optional<Json>> Next();
  // Bytes received but not yet returned as a value.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  absl::Status Fail(std::string why);

  size_t max_message_bytes_;
  std::string buffer_;
  size_t start_ = 0;  // Start of the current value (or of unscanned whitespace).
  size_t scan_ = 0;   // Next byte to scan.
  size_t depth_ = 0;
  bool in_value_ = false;
  bool in_string_ = false;
  bool escape_ = false;
  absl::Status error_;
};

}  // namespace shortcut::ovsdb
