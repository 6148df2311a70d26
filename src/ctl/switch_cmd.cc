#include "src/ctl/switch_cmd.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "src/ctl/run_context.h"
#include "src/ctl/switch_file.h"
#include "src/ofconn/connection.h"
#include "src/openflow/errors.h"
#include "src/openflow/text.h"
#include "src/reconcile/plan.h"
#include "src/reconcile/reconciler.h"

namespace shortcut::ctl {
namespace {

absl::StatusOr<uint64_t> ParseU64(std::string_view s, std::string_view what) {
  uint64_t v = 0;
  int base = 10;
  std::string_view digits = s;
  if (s.substr(0, 2) == "0x" || s.substr(0, 2) == "0X") {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  bool ok = !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", std::string(what), " '", std::string(s), "'"));
  }
  return v;
}

}  // namespace

absl::StatusOr<std::pair<uint64_t, uint64_t>> ParseCookieMask(std::string_view text) {
  size_t slash = text.find('/');
  auto value = ParseU64(text.substr(0, slash), "cookie");
  if (!value.ok()) return value.status();
  uint64_t mask = ~uint64_t{0};
  if (slash != std::string_view::npos) {
    auto m = ParseU64(text.substr(slash + 1), "cookie mask");
    if (!m.ok()) return m.status();
    mask = *m;
  }
  return std::make_pair(*value & mask, mask);
}

namespace {

reconcile::DriverOptions Driver(const SwitchOptions& options) {
  reconcile::DriverOptions driver;
  driver.timeout_ms = options.timeout_ms;
  return driver;
}

reconcile::Ownership OwnershipOf(const SwitchOptions& options) {
  reconcile::Ownership own;
  own.cookie = options.cookie;
  own.cookie_mask = options.cookie_mask;
  return own;
}

asio::awaitable<absl::StatusOr<std::shared_ptr<ofconn::Connection>>> ConnectTo(
    asio::any_io_executor ex, const SwitchOptions& options) {
  auto target = ofconn::ParseTarget(options.target);
  if (!target.ok()) co_return target.status();
  ofconn::Connection::Options conn_options;
  conn_options.connect_timeout = options.timeout_ms;
  conn_options.probe_interval = options.timeout_ms;
  co_return co_await ofconn::Connection::Connect(ex, *target, conn_options);
}

// "state.sw:line 15: OFPBAC_BAD_OUT_GROUP (...): flow add table=40 priority=1" per error.
absl::Status DescribeRejection(const absl::Status& status,
                               const std::vector<reconcile::SyncError>& errors,
                               std::string_view file_name) {
  if (errors.empty()) return status;
  std::string msg = "the switch rejected the change; nothing was changed:";
  for (const auto& e : errors) {
    absl::StrAppend(&msg, "\n  ", std::string(file_name), ":line ", e.origin, ": ",
                    of::ErrorName(e.error), " (", std::string(of::ErrorDescription(e.error)), ")",
                    e.what.empty() ? "" : ": ", e.what);
  }
  return absl::Status(status.code(), msg);
}

std::string DescribePlan(const reconcile::Plan& plan) {
  std::string out;
  auto add = [&out](const char* phase, const std::vector<reconcile::PlannedMessage>& msgs) {
    for (const auto& pm : msgs) {
      of::Message m;
      m.body = pm.Body();
      absl::StrAppend(&out, phase, " ", of::FormatMessage(m), "\n");
    }
  };
  add("before-bundle", plan.meters_before);
  add("bundle", plan.bundle);
  add("after-bundle", plan.meters_after);
  return out;
}

}  // namespace

absl::Status RunSwitchSync(const SwitchOptions& options, std::string_view file_text,
                           std::string_view file_name, std::string* output) {
  reconcile::Ownership ownership = OwnershipOf(options);
  return RunOnContext([&](asio::any_io_executor ex) -> asio::awaitable<absl::Status> {
    // Parse the file on other threads while this one connects and reads the
    // switch: on a large table both take a similar time.
    asio::steady_timer parsed_signal(ex, asio::steady_timer::time_point::max());
    bool parse_done = false;
    std::optional<absl::StatusOr<reconcile::SwitchState>> parsed;
    std::jthread parser([&] {
      parsed = ParseSwitchFile(file_text, file_name, 2);
      asio::post(ex, [&] {
        parse_done = true;
        parsed_signal.cancel();
      });
    });
    auto wait_parsed = [&]() -> asio::awaitable<absl::Status> {
      while (!parse_done) {
        auto [ec] =
            co_await parsed_signal.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        (void)ec;
      }
      if (!parsed->ok()) co_return parsed->status();
      co_return reconcile::CheckDesired(**parsed, ownership);
    };

    // No temporaries or conditional expressions around co_await: g++ 12
    // miscompiles some of them (double destruction).
    const reconcile::DriverOptions driver = Driver(options);
    auto conn = co_await ConnectTo(ex, options);
    absl::StatusOr<reconcile::SwitchState> installed = absl::UnavailableError("not connected");
    if (conn.ok()) {
      installed = co_await reconcile::ReadSwitch(**conn, ownership, driver);
    } else {
      installed = conn.status();
    }
    // A malformed file is reported first, whatever the switch did.
    absl::Status file_status = co_await wait_parsed();
    absl::Status status = !file_status.ok() ? file_status : installed.status();
    if (status.ok()) {
      const reconcile::SwitchState& desired = **parsed;
      spdlog::debug("{}: {} flows, {} groups, {} meters; switch: {} flows, {} groups, {} meters",
                    std::string(file_name), desired.flow_count(), desired.group_count(),
                    desired.meter_count(), installed->flow_count(), installed->group_count(),
                    installed->meter_count());
      reconcile::Plan plan = reconcile::ComputePlan(desired, *installed, ownership);
      if (options.dry_run) {
        absl::StrAppend(output, DescribePlan(plan), plan.summary.ToString(), " (dry run)\n");
      } else {
        std::vector<reconcile::SyncError> errors;
        auto result = co_await reconcile::Apply(**conn, plan, driver, &errors);
        if (result.ok()) {
          absl::StrAppend(output, result->installed.ToString(), "\n");
        } else {
          status = DescribeRejection(result.status(), errors, file_name);
        }
      }
    }
    if (conn.ok()) (*conn)->Close();
    co_return status;
  });
}

absl::Status RunSwitchDump(const SwitchOptions& options, std::string* output) {
  reconcile::Ownership ownership = OwnershipOf(options);
  return RunOnContext([&](asio::any_io_executor ex) -> asio::awaitable<absl::Status> {
    auto conn = co_await ConnectTo(ex, options);
    if (!conn.ok()) co_return conn.status();
    const reconcile::DriverOptions driver = Driver(options);
    auto state = co_await reconcile::ReadSwitch(**conn, ownership, driver);
    (*conn)->Close();
    if (!state.ok()) co_return state.status();
    absl::StrAppend(output, FormatSwitchFile(*state));
    co_return absl::OkStatus();
  });
}

absl::StatusOr<reconcile::SwitchState> ReadSwitchState(const SwitchOptions& options) {
  reconcile::Ownership ownership = OwnershipOf(options);
  std::optional<absl::StatusOr<reconcile::SwitchState>> result;
  absl::Status s = RunOnContext([&](asio::any_io_executor ex) -> asio::awaitable<absl::Status> {
    auto conn = co_await ConnectTo(ex, options);
    if (!conn.ok()) co_return conn.status();
    result = co_await reconcile::ReadSwitch(**conn, ownership, Driver(options));
    (*conn)->Close();
    co_return result->status();
  });
  if (!s.ok()) return s;
  return std::move(*result);
}

}  // namespace shortcut::ctl
