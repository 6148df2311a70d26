#include "src/ctl/switch_file.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/openflow/text.h"

namespace shortcut::ctl {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits "flow rest" into ("flow", "rest").
std::pair<std::string_view, std::string_view> SplitKeyword(std::string_view line) {
  size_t sp = line.find_first_of(" \t");
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), Trim(line.substr(sp))};
}

// Parses `text`, whose first line is line `first_line` of the file.
absl::StatusOr<reconcile::SwitchState> ParseLines(std::string_view text, std::string_view name,
                                                  int first_line) {
  reconcile::SwitchState state;
  // One flow per line at most: reserving up front keeps a 100k-line file from
  // rehashing the flow table a dozen times.
  state.ReserveFlows(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  // Debian's abseil has its own string_view type: convert at the boundary.
  std::string prefix = name.empty() ? "" : std::string(name) + ":";
  auto error = [&](int line, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "line ", line, ": ", what));
  };

  int line_no = first_line - 1;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

    size_t hash = raw.find('#');
    std::string_view line = Trim(hash == std::string_view::npos ? raw : raw.substr(0, hash));
    if (line.empty()) continue;
    auto [keyword, rest] = SplitKeyword(line);
    if (rest.empty()) {
      return error(line_no, absl::StrCat("'", std::string(keyword), "' needs a specification"));
    }
    if (keyword == "flow") {
      auto mod = of::ParseFlow(rest);
      if (!mod.ok()) return error(line_no, mod.status().message());
      reconcile::FlowEntry flow = reconcile::FlowFromMod(*mod, line_no);
      if (const auto* other = state.FindFlow(flow.key)) {
        return error(line_no, absl::StrCat("flow duplicates line ", other->origin,
                                           " (same table, priority and match)"));
      }
      state.AddFlow(std::move(flow));
    } else if (keyword == "group") {
      auto mod = of::ParseGroup(rest);
      if (!mod.ok()) return error(line_no, mod.status().message());
      if (const auto* other = state.FindGroup(mod->group_id)) {
        return error(line_no, absl::StrCat("group ", mod->group_id, " already defined at line ",
                                           other->origin));
      }
      state.AddGroup(reconcile::GroupFromMod(*mod, line_no));
    } else if (keyword == "meter") {
      auto mod = of::ParseMeter(rest);
      if (!mod.ok()) return error(line_no, mod.status().message());
      if (const auto* other = state.FindMeter(mod->meter_id)) {
        return error(line_no, absl::StrCat("meter ", mod->meter_id, " already defined at line ",
                                           other->origin));
      }
      state.AddMeter(reconcile::MeterFromMod(*mod, line_no));
    } else {
      return error(line_no, absl::StrCat("unknown keyword '", std::string(keyword),
                                         "' (expected flow, group or meter)"));
    }
  }
  return state;
}

// Moves `part`'s entries into `into`, failing on a second definition as the
// sequential parser would: the entry from the later line is the duplicate.
absl::Status Merge(reconcile::SwitchState& into, const reconcile::SwitchState& part,
                   std::string_view name) {
  std::string prefix = name.empty() ? "" : std::string(name) + ":";
  for (auto& [key, flow] : part.flows()) {
    if (const auto* other = into.FindFlow(key)) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "line ", flow.origin,
                                                     ": flow duplicates line ", other->origin,
                                                     " (same table, priority and match)"));
    }
  }
  for (auto& [id, group] : part.groups()) {
    if (const auto* other = into.FindGroup(id)) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "line ", group.origin, ": group ", id,
                                                     " already defined at line ", other->origin));
    }
  }
  for (auto& [id, meter] : part.meters()) {
    if (const auto* other = into.FindMeter(id)) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "line ", meter.origin, ": meter ", id,
                                                     " already defined at line ", other->origin));
    }
  }
  into.ReserveFlows(into.flow_count() + part.flow_count());
  for (const auto& [key, flow] : part.flows()) into.AddFlow(flow);
  for (const auto& [id, group] : part.groups()) into.AddGroup(group);
  for (const auto& [id, meter] : part.meters()) into.AddMeter(meter);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<reconcile::SwitchState> ParseSwitchFile(std::string_view text, std::string_view name,
                                                       int threads) {
  // Below this size a thread costs more than it saves.
  constexpr size_t kMinBytesPerThread = 1 << 20;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(text.size() / kMinBytesPerThread)));
  if (threads == 1) return ParseLines(text, name, 1);

  // Cut at line boundaries; remember each piece's first line number.
  std::vector<std::string_view> pieces;
  std::vector<int> first_lines;
  int line = 1;
  size_t start = 0;
  for (int i = 1; i <= threads; ++i) {
    size_t end = i == threads ? text.size() : text.size() * i / threads;
    if (end < text.size()) {
      size_t nl = text.find('\n', std::max(end, start));
      end = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    if (end <= start) continue;
    std::string_view piece = text.substr(start, end - start);
    pieces.push_back(piece);
    first_lines.push_back(line);
    line += static_cast<int>(std::count(piece.begin(), piece.end(), '\n'));
    start = end;
  }
  std::vector<std::optional<absl::StatusOr<reconcile::SwitchState>>> results(pieces.size());
  {
    std::vector<std::jthread> workers;
    for (size_t i = 1; i < pieces.size(); ++i) {
      workers.emplace_back([&, i] { results[i] = ParseLines(pieces[i], name, first_lines[i]); });
    }
    results[0] = ParseLines(pieces[0], name, first_lines[0]);
  }
  // The first failing piece holds the file's first error.
  for (auto& r : results) {
    if (!r->ok()) return r->status();
  }
  reconcile::SwitchState state = **std::move(results[0]);
  for (size_t i = 1; i < results.size(); ++i) {
    if (auto s = Merge(state, **std::move(results[i]), name); !s.ok()) return s;
  }
  return state;
}

std::string FormatSwitchFile(const reconcile::SwitchState& state) {
  struct FlowLine {
    uint8_t table;
    uint16_t priority;
    std::string text;
  };
  std::vector<FlowLine> flows;
  flows.reserve(state.flow_count());
  for (const auto& [key, flow] : state.flows()) {
    flows.push_back({key.table, key.priority,
                     of::FormatFlowSpec(reconcile::ToFlowMod(flow, of::FlowModCommand::kAdd))});
  }
  std::sort(flows.begin(), flows.end(), [](const FlowLine& a, const FlowLine& b) {
    return std::tie(a.table, b.priority, a.text) < std::tie(b.table, a.priority, b.text);
  });

  std::string out;
  // Meters and groups are kept ordered by id.
  for (const auto& [id, m] : state.meters()) {
    absl::StrAppend(&out, "meter ",
                    of::FormatMeterSpec(reconcile::ToMeterMod(m, of::MeterModCommand::kAdd)), "\n");
  }
  for (const auto& [id, g] : state.groups()) {
    absl::StrAppend(&out, "group ",
                    of::FormatGroupSpec(reconcile::ToGroupMod(g, of::GroupModCommand::kAdd)), "\n");
  }
  for (const auto& f : flows) absl::StrAppend(&out, "flow ", f.text, "\n");
  return out;
}

}  // namespace shortcut::ctl
