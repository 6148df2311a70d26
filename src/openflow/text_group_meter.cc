// Groups and meters: ovs-ofctl add-group / add-meter syntax and the
// ofp_print_group / ofputil_format_meter_config text.
#include <cstdio>

#include "src/common/status_macros.h"
#include "src/openflow/text.h"
#include "src/openflow/text_internal.h"

namespace shortcut::of {
namespace ti = text_internal;
using ti::Append;
using ti::Cat;
using ti::EqualsIgnoreCase;

namespace text_internal {

void AppendGroup(std::string& out, uint32_t group_id, GroupType type,
                 const std::vector<Bucket>* buckets, bool suppress_type) {
  static constexpr std::string_view kTypes[] = {"all", "select", "indirect", "ff", "unknown"};
  Append(out, "group_id=", group_id);
  if (!suppress_type) {
    size_t t = static_cast<size_t>(type);
    Append(out, ",type=", kTypes[t > 4 ? 4 : t]);
  }
  if (!buckets) return;
  out += ',';
  for (const Bucket& b : *buckets) {
    out += "bucket=";
    if (b.weight != (type == GroupType::kSelect ? 1 : 0)) Append(out, "weight:", b.weight, ",");
    if (b.watch_port != kPortAny) {
      out += "watch_port:";
      AppendPort(out, b.watch_port);
      out += ',';
    }
    if (b.watch_group != kGroupAny) Append(out, "watch_group:", b.watch_group, ",");
    out += "actions=";
    AppendActions(out, b.actions);
    out += ',';
  }
  if (out.back() == ',') out.pop_back();
}

void AppendMeterId(std::string& out, uint32_t meter_id, char sep) {
  out += "meter";
  out += sep;
  if (meter_id <= kMeterMax) {
    Append(out, meter_id);
  } else if (meter_id == kMeterSlowpath) {
    out += "slowpath";
  } else if (meter_id == kMeterController) {
    out += "controller";
  } else if (meter_id == kMeterAll) {
    out += "all";
  } else {
    out += "unknown";
  }
}

void AppendMeterConfig(std::string& out, uint32_t meter_id, uint16_t flags,
                       const std::vector<MeterBand>& bands) {
  AppendMeterId(out, meter_id, '=');
  out += ' ';
  if (flags & kMeterKbps) out += "kbps ";
  if (flags & kMeterPktps) out += "pktps ";
  if (flags & kMeterBurst) out += "burst ";
  if (flags & kMeterStats) out += "stats ";
  uint16_t rest = flags & ~(kMeterKbps | kMeterPktps | kMeterBurst | kMeterStats);
  if (rest) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "flags:0x%x ", rest);
    out += buf;
  }
  out += "bands=";
  for (const MeterBand& b : bands) {
    out += "\ntype=";
    if (b.type == kMeterBandDrop) {
      out += "drop";
    } else if (b.type == kMeterBandDscpRemark) {
      out += "dscp_remark";
    } else {
      Append(out, b.type);
    }
    Append(out, " rate=", b.rate);
    if (flags & kMeterBurst) Append(out, " burst_size=", b.burst_size);
    if (b.type == kMeterBandDscpRemark) Append(out, " prec_level=", b.prec_level);
  }
  out += '\n';
}

}  // namespace text_internal

namespace {

absl::StatusOr<Bucket> ParseBucket(std::string_view text, GroupType type) {
  Bucket b;
  b.weight = type == GroupType::kSelect ? 1 : 0;
  std::string actions;
  bool has_actions = false;
  ti::KeyValue kv;
  std::string_view rest = text;
  while (ti::NextKeyValue(&rest, &kv)) {
    if (EqualsIgnoreCase(kv.key, "weight")) {
      ASSIGN_OR_RETURN(uint64_t w, ti::ParseUintNamed(kv.value, 0xffff, "weight"));
      b.weight = static_cast<uint16_t>(w);
    } else if (EqualsIgnoreCase(kv.key, "watch_port")) {
      auto p = ti::ParsePort(kv.value);
      if (!p || (*p >= 0xff00 && *p != kPortAny && *p != kPortController)) {
        return ti::Invalid("invalid watch_port", kv.value);
      }
      b.watch_port = *p;
    } else if (EqualsIgnoreCase(kv.key, "watch_group")) {
      auto g = ti::ParseUint(kv.value, kGroupMax);
      if (!g) return ti::Invalid("invalid watch_group id", kv.value);
      b.watch_group = static_cast<uint32_t>(*g);
    } else if (EqualsIgnoreCase(kv.key, "action") || EqualsIgnoreCase(kv.key, "actions")) {
      Append(actions, kv.value, ",");
      has_actions = true;
    } else {
      Append(actions, kv.key, "(", kv.value, "),");
      has_actions = true;
    }
  }
  if (!has_actions) return ti::Invalid("bucket must specify actions", text);
  if (type == GroupType::kFastFailover && b.watch_port == kPortAny && b.watch_group == kGroupAny) {
    return ti::Invalid("fast failover bucket requires watch_port or watch_group", text);
  }
  ASSIGN_OR_RETURN(b.actions, ti::ParseActionsText(actions));
  return b;
}

}  // namespace

absl::StatusOr<GroupMod> ParseGroup(std::string_view text, GroupModCommand command) {
  GroupMod gm;
  gm.command = command;
  bool is_delete = command == GroupModCommand::kDelete;
  size_t first_bucket = text.find("bucket=");
  std::string_view head = text.substr(0, first_bucket);
  if (first_bucket != std::string_view::npos && is_delete) {
    return ti::Invalid("bucket is not needed", text.substr(first_bucket));
  }
  bool had_type = false, had_id = false;
  ti::KeyValue kv;
  while (ti::NextKeyValue(&head, &kv)) {
    if (kv.key == "group_id") {
      if (kv.value == "all") {
        gm.group_id = kGroupAll;
      } else {
        auto id = ti::ParseUint(kv.value, UINT32_MAX);
        if (!id || (*id > kGroupMax && *id != kGroupAll)) {
          return ti::Invalid("invalid group id", kv.value);
        }
        gm.group_id = static_cast<uint32_t>(*id);
      }
      had_id = true;
    } else if (kv.key == "type") {
      if (is_delete) return ti::Invalid("type is not needed", kv.value);
      if (kv.value == "all") {
        gm.type = GroupType::kAll;
      } else if (kv.value == "select") {
        gm.type = GroupType::kSelect;
      } else if (kv.value == "indirect") {
        gm.type = GroupType::kIndirect;
      } else if (kv.value == "ff" || kv.value == "fast_failover") {
        gm.type = GroupType::kFastFailover;
      } else {
        return ti::Invalid("invalid group type", kv.value);
      }
      had_type = true;
    } else {
      return ti::Invalid("unknown keyword", kv.key);
    }
  }
  if (!had_id) {
    if (is_delete && text.find_first_not_of(" \t\r\n,") == std::string_view::npos) {
      gm.group_id = kGroupAll;
      return gm;
    }
    return absl::InvalidArgumentError("must specify a group_id");
  }
  if (!is_delete && !had_type) return absl::InvalidArgumentError("must specify a type");

  size_t pos = first_bucket;
  while (pos != std::string_view::npos) {
    size_t start = pos + 7;  // past "bucket="
    size_t next = text.find("bucket=", start);
    std::string_view bt = text.substr(start, next == std::string_view::npos ? next : next - start);
    ASSIGN_OR_RETURN(Bucket b, ParseBucket(bt, gm.type));
    if (gm.type != GroupType::kSelect && b.weight != 0) {
      return ti::Invalid("only select groups can have bucket weights", bt);
    }
    gm.buckets.push_back(std::move(b));
    pos = next;
  }
  if (gm.type == GroupType::kIndirect && gm.buckets.size() > 1) {
    return absl::InvalidArgumentError("indirect groups can have at most one bucket");
  }
  return gm;
}

std::string FormatGroupSpec(const GroupMod& g) {
  std::string s;
  ti::AppendGroup(s, g.group_id, g.type,
                  g.command == GroupModCommand::kDelete || g.buckets.empty() ? nullptr : &g.buckets,
                  g.command == GroupModCommand::kDelete);
  return s;
}

namespace {

// strtok_r-style tokens, as parse_ofp_meter_mod_str__ reads them.
class Tokens {
 public:
  explicit Tokens(std::string_view s) : s_(s) {}
  std::optional<std::string_view> Next(std::string_view delims) {
    size_t b = s_.find_first_not_of(delims);
    if (b == std::string_view::npos) {
      s_ = {};
      return std::nullopt;
    }
    s_.remove_prefix(b);
    size_t e = s_.find_first_of(delims);
    std::string_view t = s_.substr(0, e);
    s_.remove_prefix(e == std::string_view::npos ? s_.size() : e + 1);
    return t;
  }

 private:
  std::string_view s_;
};

constexpr std::string_view kNameDelims = "=, \t\r\n";
constexpr std::string_view kValueDelims = ", \t\r\n";

}  // namespace

absl::StatusOr<MeterMod> ParseMeter(std::string_view text, MeterModCommand command) {
  MeterMod mm;
  mm.command = command;
  mm.flags = 0;
  bool with_bands = command != MeterModCommand::kDelete;
  std::string_view head = text, band_text;
  if (with_bands) {
    size_t b = text.find("band");
    if (b == std::string_view::npos) return absl::InvalidArgumentError("must specify bands");
    size_t eq = text.find('=', b);
    if (eq == std::string_view::npos) return absl::InvalidArgumentError("must specify bands");
    head = text.substr(0, b);
    band_text = text.substr(eq + 1);
  }
  Tokens t(head);
  while (auto name = t.Next(kNameDelims)) {
    if (with_bands && *name == "kbps") {
      mm.flags |= kMeterKbps;
    } else if (with_bands && *name == "pktps") {
      mm.flags |= kMeterPktps;
    } else if (with_bands && *name == "burst") {
      mm.flags |= kMeterBurst;
    } else if (with_bands && *name == "stats") {
      mm.flags |= kMeterStats;
    } else {
      auto value = t.Next(kValueDelims);
      if (!value) return ti::Invalid("field is missing its value", *name);
      if (*name != "meter") return ti::Invalid("unknown keyword", *name);
      if (*value == "all") {
        mm.meter_id = kMeterAll;
      } else if (*value == "controller") {
        mm.meter_id = kMeterController;
      } else if (*value == "slowpath") {
        mm.meter_id = kMeterSlowpath;
      } else {
        auto id = ti::ParseUint(*value, kMeterMax);
        if (!id || *id == 0) return ti::Invalid("invalid value for meter", *value);
        mm.meter_id = static_cast<uint32_t>(*id);
      }
    }
  }
  if (mm.meter_id == 0) return absl::InvalidArgumentError("must specify 'meter'");
  if (!with_bands) return mm;
  if (!(mm.flags & (kMeterKbps | kMeterPktps))) {
    return absl::InvalidArgumentError("meter must specify either 'kbps' or 'pktps'");
  }
  Tokens bt(band_text);
  MeterBand* band = nullptr;
  while (auto name = bt.Next(kNameDelims)) {
    auto value = bt.Next(kValueDelims);
    if (!value) return ti::Invalid("field is missing its value", *name);
    if (*name == "type") {
      MeterBand nb;
      if (*value == "drop") {
        nb.type = kMeterBandDrop;
      } else if (*value == "dscp_remark") {
        nb.type = kMeterBandDscpRemark;
      } else {
        return ti::Invalid("unknown band type", *value);
      }
      mm.bands.push_back(nb);
      band = &mm.bands.back();
    } else if (!band) {
      return ti::Invalid("band must start with the 'type' keyword", *name);
    } else if (*name == "rate") {
      ASSIGN_OR_RETURN(uint64_t v, ti::ParseUintNamed(*value, UINT32_MAX, "rate"));
      band->rate = static_cast<uint32_t>(v);
    } else if (*name == "burst_size") {
      ASSIGN_OR_RETURN(uint64_t v, ti::ParseUintNamed(*value, UINT32_MAX, "burst_size"));
      band->burst_size = static_cast<uint32_t>(v);
    } else if (*name == "prec_level") {
      ASSIGN_OR_RETURN(uint64_t v, ti::ParseUintNamed(*value, 255, "prec_level"));
      band->prec_level = static_cast<uint8_t>(v);
    } else {
      return ti::Invalid("unknown keyword", *name);
    }
  }
  if (mm.bands.empty()) return absl::InvalidArgumentError("meter must have bands");
  for (const MeterBand& b : mm.bands) {
    if (b.type == kMeterBandDscpRemark && b.prec_level == 0) {
      return absl::InvalidArgumentError("'dscp_remark' band must have 'prec_level'");
    }
    if (b.type != kMeterBandDscpRemark && b.prec_level != 0) {
      return absl::InvalidArgumentError("only 'dscp_remark' band may have 'prec_level'");
    }
    if (b.rate == 0) return absl::InvalidArgumentError("band must have 'rate'");
    if ((mm.flags & kMeterBurst) && b.burst_size == 0) {
      return absl::InvalidArgumentError("band must have 'burst_size' when 'burst' flag is set");
    }
    if (!(mm.flags & kMeterBurst) && b.burst_size != 0) {
      return absl::InvalidArgumentError("band may have 'burst_size' only when 'burst' flag is set");
    }
  }
  return mm;
}

std::string FormatMeterSpec(const MeterMod& m) {
  std::string s;
  ti::AppendMeterId(s, m.meter_id, '=');
  if (m.command == MeterModCommand::kDelete) return s;
  if (m.flags & kMeterKbps) s += ",kbps";
  if (m.flags & kMeterPktps) s += ",pktps";
  if (m.flags & kMeterBurst) s += ",burst";
  if (m.flags & kMeterStats) s += ",stats";
  s += ",bands=";
  bool first = true;
  for (const MeterBand& b : m.bands) {
    if (!first) s += ',';
    first = false;
    s += b.type == kMeterBandDscpRemark ? "type=dscp_remark" : "type=drop";
    Append(s, ",rate=", b.rate);
    if (m.flags & kMeterBurst) Append(s, ",burst_size=", b.burst_size);
    if (b.type == kMeterBandDscpRemark) Append(s, ",prec_level=", b.prec_level);
  }
  return s;
}

}  // namespace shortcut::of
