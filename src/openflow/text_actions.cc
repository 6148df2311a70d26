// Actions and instructions: ofpacts_format() output and the ovs-ofctl
// action syntax for the actions Shortcut models (see action.h).
#include <cstdio>

#include "src/common/status_macros.h"
#include "src/openflow/subfield.h"
#include "src/openflow/text.h"
#include "src/openflow/text_internal.h"

namespace shortcut::of {
namespace ti = text_internal;
using ti::Append;
using ti::Cat;
using ti::EqualsIgnoreCase;

namespace text_internal {
namespace {

bool Is(std::string_view a, std::string_view b) { return EqualsIgnoreCase(a, b); }

// mf_format_subfield(): the NXM (else OXM) name, then "[]" for the whole
// field, "[n]" for one bit, "[a..b]" otherwise.
void AppendSubfield(std::string& out, Field f, uint16_t ofs, uint16_t n_bits) {
  const SubfieldInfo* sf = GetSubfieldInfo(f);
  if (sf == nullptr) {
    out += "<unknown>";
  } else {
    out += sf->name;
  }
  if (sf != nullptr && ofs == 0 && n_bits == sf->n_bits) {
    out += "[]";
  } else if (n_bits == 1) {
    Append(out, "[", ofs, "]");
  } else {
    Append(out, "[", ofs, "..", ofs + n_bits - 1, "]");
  }
}

struct ActionAppender {
  std::string& out;
  void operator()(const ActionOutput& a) {
    // ovs prints "output:" only for ordinary (non-reserved) ports.
    if (a.port < 0xff00 || (a.port > 0xffff && a.port < kPortMax)) out += "output:";
    AppendPort(out, a.port);
    if (a.port == kPortController) Append(out, ":", a.max_len);
  }
  void operator()(const ActionGroup& a) { Append(out, "group:", a.group_id); }
  void operator()(const ActionSetField& a) {
    out += "set_field:";
    AppendFieldValue(out, a.field, a.value, nullptr);
    Append(out, "->", GetFieldInfo(a.field).name);
  }
  void operator()(const ActionPushVlan& a) {
    out += "push_vlan:";
    AppendHex(out, a.ethertype);
  }
  void operator()(const ActionPopVlan&) { out += "pop_vlan"; }
  void operator()(const ActionDecTtl&) { out += "dec_ttl"; }
  void operator()(const ActionController& a) {
    if (a.reason == kPacketInAction && a.controller_id == 0 && a.userdata.empty() && !a.pause &&
        a.meter_id == 0) {
      Append(out, "CONTROLLER:", a.max_len);
      return;
    }
    out += "controller(";
    if (a.reason != kPacketInAction) Append(out, "reason=", PacketInReasonName(a.reason), ",");
    if (a.max_len != kControllerMaxLenNoBuffer) Append(out, "max_len=", a.max_len, ",");
    if (a.controller_id != 0) Append(out, "id=", a.controller_id, ",");
    if (!a.userdata.empty()) {
      out += "userdata=";
      char buf[4];
      for (size_t i = 0; i < a.userdata.size(); ++i) {
        std::snprintf(buf, sizeof buf, i ? ".%02x" : "%02x", a.userdata[i]);
        out += buf;
      }
      out += ',';
    }
    if (a.pause) out += "pause,";
    if (a.meter_id != 0) Append(out, "meter_id=", a.meter_id, ",");
    if (out.back() == ',') out.pop_back();
    out += ')';
  }
  void operator()(const ActionMove& a) {
    out += "move:";
    AppendSubfield(out, a.src, a.src_ofs, a.n_bits);
    out += "->";
    AppendSubfield(out, a.dst, a.dst_ofs, a.n_bits);
  }
  void operator()(const ActionResubmit& a) {
    if (a.in_port != kPortInPort && a.table == kTableAll) {
      out += "resubmit:";
      AppendPort(out, a.in_port);
      return;
    }
    out += "resubmit(";
    if (a.in_port != kPortInPort) AppendPort(out, a.in_port);
    out += ',';
    if (a.table != kTableAll) Append(out, a.table);
    out += ')';
  }
};

void AppendActionsNoDrop(std::string& out, const ActionList& actions) {
  for (size_t i = 0; i < actions.size(); ++i) {
    if (i) out += ',';
    std::visit(ActionAppender{out}, actions[i]);
  }
}

absl::StatusOr<std::vector<uint8_t>> ParseUserdata(std::string_view s) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : s) {
    if (c == '.') continue;
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return Invalid("bad hex digit in controller userdata", s);
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) return Invalid("odd number of hex digits in controller userdata", s);
  return out;
}

absl::StatusOr<Action> ParseController(std::string_view arg) {
  ActionController c;
  if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string_view::npos) {
    ASSIGN_OR_RETURN(uint64_t ml, ParseUintNamed(arg, 0xffff, "controller max_len"));
    c.max_len = static_cast<uint16_t>(ml);
  } else {
    KeyValue kv;
    while (NextKeyValue(&arg, &kv)) {
      if (kv.key == "reason") {
        auto r = PacketInReasonFromName(kv.value);
        if (!r) return Invalid("unknown controller reason", kv.value);
        c.reason = *r;
      } else if (kv.key == "max_len") {
        ASSIGN_OR_RETURN(uint64_t v, ParseUintNamed(kv.value, 0xffff, "controller max_len"));
        c.max_len = static_cast<uint16_t>(v);
      } else if (kv.key == "id") {
        ASSIGN_OR_RETURN(uint64_t v, ParseUintNamed(kv.value, 0xffff, "controller id"));
        c.controller_id = static_cast<uint16_t>(v);
      } else if (kv.key == "userdata") {
        ASSIGN_OR_RETURN(c.userdata, ParseUserdata(kv.value));
      } else if (kv.key == "pause") {
        c.pause = true;
      } else if (kv.key == "meter_id") {
        ASSIGN_OR_RETURN(uint64_t v, ParseUintNamed(kv.value, UINT32_MAX, "controller meter_id"));
        c.meter_id = static_cast<uint32_t>(v);
      } else {
        return Invalid("unknown key parsing controller action", kv.key);
      }
    }
  }
  // Like ovs-ofctl, a controller action with only defaults is a plain output.
  if (c.reason == kPacketInAction && c.controller_id == 0 && c.userdata.empty() && !c.pause &&
      c.meter_id == 0) {
    return ActionOutput{kPortController, c.max_len};
  }
  return c;
}

absl::StatusOr<Action> ParseSetField(Field f, std::string_view value, std::string_view token) {
  if (f == Field::kEthType || f == Field::kIpProto) {
    return Invalid(Cat(GetFieldInfo(f).name, " is read-only"), token);
  }
  FieldMatch fm;
  RETURN_IF_ERROR(ParseFieldValue(f, value, false, &fm));
  return ActionSetField{f, fm.value};
}

absl::StatusOr<Action> ParseResubmit(std::string_view arg, std::string_view token) {
  ActionResubmit r;
  size_t comma = arg.find(',');
  std::string_view port = arg.substr(0, comma);
  std::string_view table = comma == std::string_view::npos ? "" : arg.substr(comma + 1);
  if (!port.empty()) {
    auto p = ParsePort(port);
    if (!p) return Invalid("resubmit to unknown port", token);
    r.in_port = *p;
  }
  if (!table.empty()) {
    auto t = ParseUint(table, 255);
    if (!t) return Invalid("resubmit to unknown table", token);
    r.table = static_cast<uint8_t>(*t);
  }
  if (r.in_port == kPortInPort && r.table == kTableAll) {
    return Invalid("resubmit needs an in_port or a table", token);
  }
  return r;
}

struct Subfield {
  Field field;
  uint16_t ofs;
  uint16_t n_bits;
};

// The field names a subfield may use, as OVS's mf_parse_subfield__ looks
// them up: an NXM/OXM name (an "_W" suffix ignored), else a meta-flow name.
// OVS's "in_port" and NXM_OF_IN_PORT are its 16-bit OpenFlow 1.0 port, which
// Shortcut does not model; its 32-bit in_port is in_port_oxm/OXM_OF_IN_PORT.
absl::StatusOr<Field> SubfieldField(std::string_view name, std::string_view token) {
  std::string_view nxm = name;
  if (nxm.size() > 2 && nxm.substr(nxm.size() - 2) == "_W") nxm.remove_suffix(2);
  if (nxm == "NXM_OF_IN_PORT" || name == "in_port") {
    return Invalid(
        Cat("move: the 16-bit ", name, " is not supported, use in_port_oxm or OXM_OF_IN_PORT"),
        token);
  }
  if (const SubfieldInfo* sf = SubfieldByNxmName(nxm)) return sf->field;
  if (name == "in_port_oxm") return Field::kInPort;
  // Shortcut's aliases that OVS does not know as meta-flow names.
  if (name != "icmpv4_type" && name != "icmpv4_code") {
    if (auto f = FieldByName(name)) return *f;
  }
  return Invalid(Cat("move: unknown field `", name, "'"), token);
}

// One bit index of "[a..b]"; like OVS's %d, an optional '+'.
std::optional<uint64_t> ParseBit(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return ParseUint(s, UINT32_MAX);
}

// mf_parse_subfield__(): NAME, then optionally "[]", "[bit]" or
// "[start..end]" (inclusive). Consumes it from the front of `*s`.
absl::StatusOr<Subfield> ParseSubfield(std::string_view* s, std::string_view token) {
  size_t name_len = std::min(s->find_first_of("[-"), s->size());
  std::string_view name = s->substr(0, name_len);
  ASSIGN_OR_RETURN(Field f, SubfieldField(name, token));
  const SubfieldInfo* sf = GetSubfieldInfo(f);
  if (sf == nullptr) return Invalid(Cat("move: field ", name, " cannot be moved"), token);
  s->remove_prefix(name_len);
  uint64_t start = 0, end = sf->n_bits - 1;
  if (!s->empty() && (*s)[0] == '[') {
    size_t close = s->find(']');
    auto syntax = [&] {
      return Invalid("move: syntax error expecting [] or [<bit>] or [<start>..<end>]", token);
    };
    if (close == std::string_view::npos) return syntax();
    std::string_view inner = s->substr(1, close - 1);
    if (!inner.empty()) {
      size_t dots = inner.find("..");
      auto a = ParseBit(inner.substr(0, dots));
      auto b = dots == std::string_view::npos ? a : ParseBit(inner.substr(dots + 2));
      if (!a || !b) return syntax();
      start = *a;
      end = *b;
    }
    s->remove_prefix(close + 1);
  }
  if (start > end) {
    return Invalid(Cat("move: starting bit ", start, " is after ending bit ", end), token);
  }
  if (end >= sf->n_bits) {
    return Invalid(Cat("move: ", start >= sf->n_bits ? "starting" : "ending", " bit ",
                       start >= sf->n_bits ? start : end, " is not valid because field is only ",
                       sf->n_bits, " bits wide"),
                   token);
  }
  return Subfield{f, static_cast<uint16_t>(start), static_cast<uint16_t>(end - start + 1)};
}

// nxm_parse_reg_move(): "SRC->DST", both subfields of the same width.
absl::StatusOr<Action> ParseMove(std::string_view arg, std::string_view token) {
  ASSIGN_OR_RETURN(Subfield src, ParseSubfield(&arg, token));
  if (arg.substr(0, 2) != "->") return Invalid("move: missing `->' following source", token);
  arg.remove_prefix(2);
  ASSIGN_OR_RETURN(Subfield dst, ParseSubfield(&arg, token));
  if (!arg.empty()) return Invalid("move: unexpected input following field syntax", token);
  if (src.n_bits != dst.n_bits) {
    return Invalid(Cat("move: source field is ", src.n_bits, " bits wide but destination is ",
                       dst.n_bits, " bits wide"),
                   token);
  }
  ActionMove m{src.field, dst.field, src.n_bits, src.ofs, dst.ofs};
  absl::Status st = CheckMove(m);  // A read-only destination.
  if (!st.ok()) return Invalid(std::string(st.message()), token);
  return m;
}

// Parses one action item; nullopt if `kv.key` is not an action.
absl::StatusOr<std::optional<Action>> ParseAction(const KeyValue& kv) {
  std::string token =
      kv.delim ? Cat(kv.key, std::string(1, kv.delim), kv.value, kv.delim == '(' ? ")" : "")
               : std::string(kv.key);
  std::string_view k = kv.key;
  if (Is(k, "output")) {
    auto p = ParsePort(kv.value);
    if (!p) return Invalid("output to unknown port", token);
    return Action(ActionOutput{*p, static_cast<uint16_t>(*p == kPortController ? 0xffff : 0)});
  }
  if (Is(k, "group")) {
    auto g = ParseUint(kv.value, UINT32_MAX);
    if (!g) return Invalid("invalid group id", token);
    return Action(ActionGroup{static_cast<uint32_t>(*g)});
  }
  if (Is(k, "set_field")) {
    size_t arrow = kv.value.find("->");
    if (arrow == std::string_view::npos) return Invalid("set_field: missing `->'", token);
    std::string_view name = kv.value.substr(arrow + 2);
    auto f = FieldByName(name);
    if (!f) return Invalid("set_field: not a valid OXM field name", token);
    ASSIGN_OR_RETURN(Action a, ParseSetField(*f, kv.value.substr(0, arrow), token));
    return a;
  }
  struct ModAlias {
    std::string_view name;
    Field field;
  };
  static constexpr ModAlias kMods[] = {{"mod_dl_src", Field::kEthSrc},
                                       {"mod_dl_dst", Field::kEthDst},
                                       {"mod_nw_src", Field::kIpv4Src},
                                       {"mod_nw_dst", Field::kIpv4Dst}};
  for (const auto& m : kMods) {
    if (Is(k, m.name)) {
      ASSIGN_OR_RETURN(Action a, ParseSetField(m.field, kv.value, token));
      return a;
    }
  }
  if (Is(k, "push_vlan")) {
    auto t = ParseUint(kv.value, 0xffff);
    if (!t || (*t != 0x8100 && *t != 0x88a8)) return Invalid("not a valid VLAN ethertype", token);
    return Action(ActionPushVlan{static_cast<uint16_t>(*t)});
  }
  if (Is(k, "strip_vlan") || Is(k, "pop_vlan")) {
    if (!kv.value.empty()) return Invalid("action takes no argument", token);
    return Action(ActionPopVlan{});
  }
  if (Is(k, "dec_ttl")) {
    if (!kv.value.empty()) return Invalid("dec_ttl with controller ids is not supported", token);
    return Action(ActionDecTtl{});
  }
  if (Is(k, "controller")) {
    auto a = ParseController(kv.value);
    if (!a.ok()) return Invalid(std::string(a.status().message()), token);
    return *a;
  }
  if (Is(k, "resubmit")) {
    ASSIGN_OR_RETURN(Action a, ParseResubmit(kv.value, token));
    return a;
  }
  if (Is(k, "move")) {
    ASSIGN_OR_RETURN(Action a, ParseMove(kv.value, token));
    return a;
  }
  if (kv.delim == 0) {
    if (auto p = ParsePort(k)) return Action(ActionOutput{*p, 0});
  }
  return std::optional<Action>();
}

enum Rank { kRankMeter, kRankApply, kRankClear, kRankWrite, kRankMetadata, kRankGoto };
constexpr std::string_view kRankNames[] = {"meter",         "apply_actions",  "clear_actions",
                                           "write_actions", "write_metadata", "goto_table"};

absl::Status ParseInto(std::string_view text, bool allow_instructions, Instructions* ins) {
  bool drop = false;
  int last_rank = -1;
  bool any = false;
  KeyValue kv;
  auto rank = [&](int r, std::string_view token) -> absl::Status {
    if (r < last_rank || (r == last_rank && r != kRankApply)) {
      return Invalid(Cat("instruction ", kRankNames[r], " may not follow ", kRankNames[last_rank]),
                     token);
    }
    last_rank = r;
    any = true;
    return absl::OkStatus();
  };
  while (NextKeyValue(&text, &kv)) {
    std::string_view k = kv.key;
    if (Is(k, "drop")) {
      drop = true;
      continue;
    }
    if (allow_instructions) {
      if (Is(k, "meter")) {
        RETURN_IF_ERROR(rank(kRankMeter, k));
        auto m = ParseUint(kv.value, UINT32_MAX);
        if (!m || *m == 0 || *m > kMeterMax) return Invalid("invalid meter id", kv.value);
        ins->meter = static_cast<uint32_t>(*m);
        continue;
      }
      if (Is(k, "clear_actions")) {
        RETURN_IF_ERROR(rank(kRankClear, k));
        ins->clear_actions = true;
        continue;
      }
      if (Is(k, "write_actions")) {
        RETURN_IF_ERROR(rank(kRankWrite, k));
        Instructions inner;
        RETURN_IF_ERROR(ParseInto(kv.value, false, &inner));
        ins->write_actions = std::move(inner.apply_actions);
        continue;
      }
      if (Is(k, "write_metadata")) {
        RETURN_IF_ERROR(rank(kRankMetadata, k));
        std::string_view v = kv.value, m;
        size_t slash = v.find('/');
        if (slash != std::string_view::npos) {
          m = v.substr(slash + 1);
          v = v.substr(0, slash);
        }
        auto value = ParseUint(v, UINT64_MAX);
        auto mask = m.empty() ? std::optional<uint64_t>(UINT64_MAX) : ParseUint(m, UINT64_MAX);
        if (!value || !mask) return Invalid("invalid write_metadata", kv.value);
        ins->write_metadata = Instructions::Metadata{*value, *mask};
        continue;
      }
      if (Is(k, "goto_table")) {
        RETURN_IF_ERROR(rank(kRankGoto, k));
        auto t = ParseUint(kv.value, 254);
        if (!t) return Invalid("unknown table", kv.value);
        ins->goto_table = static_cast<uint8_t>(*t);
        continue;
      }
      if (Is(k, "apply_actions")) {
        return Invalid("apply_actions is the default instruction", k);
      }
    }
    ASSIGN_OR_RETURN(std::optional<Action> a, ParseAction(kv));
    if (!a) return Invalid("unknown action", k);
    RETURN_IF_ERROR(rank(kRankApply, k));
    ins->apply_actions.push_back(std::move(*a));
  }
  if (drop && any) {
    return absl::InvalidArgumentError(
        "\"drop\" must not be accompanied by any other action or instruction");
  }
  return absl::OkStatus();
}

}  // namespace

void AppendActions(std::string& out, const ActionList& actions) {
  if (actions.empty()) {
    out += "drop";
  } else {
    AppendActionsNoDrop(out, actions);
  }
}

void AppendInstructions(std::string& out, const Instructions& ins) {
  size_t start = out.size();
  auto sep = [&] {
    if (out.size() > start) out += ',';
  };
  if (ins.meter) Append(out, "meter:", *ins.meter);
  if (!ins.apply_actions.empty()) {
    sep();
    AppendActionsNoDrop(out, ins.apply_actions);
  }
  if (ins.clear_actions) {
    sep();
    out += "clear_actions";
  }
  if (ins.write_actions) {
    sep();
    out += "write_actions(";
    AppendActions(out, *ins.write_actions);
    out += ')';
  }
  if (ins.write_metadata) {
    sep();
    out += "write_metadata:";
    AppendHex(out, ins.write_metadata->value);
    if (ins.write_metadata->mask != UINT64_MAX) {
      out += '/';
      AppendHex(out, ins.write_metadata->mask);
    }
  }
  if (ins.goto_table) {
    sep();
    Append(out, "goto_table:", *ins.goto_table);
  }
  if (out.size() == start) out += "drop";
}

absl::StatusOr<Instructions> ParseInstructionsText(std::string_view text) {
  Instructions ins;
  RETURN_IF_ERROR(ParseInto(text, true, &ins));
  return ins;
}

absl::StatusOr<ActionList> ParseActionsText(std::string_view text) {
  Instructions ins;
  RETURN_IF_ERROR(ParseInto(text, false, &ins));
  return std::move(ins.apply_actions);
}

}  // namespace text_internal

std::string FormatActions(const ActionList& actions) {
  std::string s;
  ti::AppendActions(s, actions);
  return s;
}

std::string FormatInstructions(const Instructions& ins) {
  std::string s;
  ti::AppendInstructions(s, ins);
  return s;
}

absl::StatusOr<ActionList> ParseActions(std::string_view text) {
  return ti::ParseActionsText(text);
}

}  // namespace shortcut::of
