// Flows: the ovs-ofctl add-flow / mod-flows / del-flows syntax
// (parse_ofp_str) and its inverse FormatFlowSpec.
#include "src/common/status_macros.h"
#include "src/openflow/text.h"
#include "src/openflow/text_internal.h"

namespace shortcut::of {
namespace ti = text_internal;
using ti::Append;
using ti::Cat;
using ti::EqualsIgnoreCase;

namespace {

bool IsDelete(FlowModCommand c) {
  return c == FlowModCommand::kDelete || c == FlowModCommand::kDeleteStrict;
}
bool IsAddOrModify(FlowModCommand c) { return !IsDelete(c); }

struct FlagName {
  std::string_view name;
  uint16_t flag;
};
constexpr FlagName kFlowFlags[] = {{"send_flow_rem", kFlowSendFlowRem},
                                   {"check_overlap", kFlowCheckOverlap},
                                   {"reset_counts", kFlowResetCounts},
                                   {"no_packet_counts", kFlowNoPktCounts},
                                   {"no_byte_counts", kFlowNoBytCounts}};

// mf_are_match_prereqs_ok(): whether `match` satisfies the prerequisites of
// `f` (ip_src needs ip, arp_tpa needs arp, ...). A field already in the
// match was checked with it; adding one that is absent (with any value: only
// eth_type and ip_proto values matter, and those are not overwritten) lets
// CheckPrerequisites judge it.
bool PrerequisitesHold(const Match& match, Field f) {
  if (match.Has(f)) return true;
  Match m = match;
  FieldMatch fm;
  fm.field = f;
  m.Put(fm);
  return ti::CheckPrerequisites(m).ok();
}

// ofpacts_check(): actions that need something of the match or the table.
absl::Status CheckActions(const ActionList& actions, const Match& match) {
  const FieldMatch* vlan = match.Find(Field::kVlanVid);
  bool vlan_present = vlan && (vlan->ValueU64() & vlan->MaskU64() & kVidPresent);
  for (const Action& a : actions) {
    if (std::holds_alternative<ActionPushVlan>(a)) vlan_present = true;
    if (std::holds_alternative<ActionPopVlan>(a)) vlan_present = false;
    // nxm_reg_move_check() with the flow's match: OVS rejects a move whose
    // source or destination lacks its prerequisites (OFPBAC_MATCH_INCONSISTENT).
    if (const auto* mv = std::get_if<ActionMove>(&a)) {
      for (auto [role, f] : {std::pair{"source", mv->src}, std::pair{"destination", mv->dst}}) {
        if (!PrerequisitesHold(match, f)) {
          return absl::InvalidArgumentError(Cat("actions are invalid with specified match: move ",
                                                role, " field ", GetFieldInfo(f).name,
                                                " lacks prerequisites"));
        }
      }
      continue;
    }
    const auto* sf = std::get_if<ActionSetField>(&a);
    if (!sf) continue;
    std::string_view name = GetFieldInfo(sf->field).name;
    if (sf->field == Field::kVlanVid) {
      if (!vlan_present) {
        return absl::InvalidArgumentError(Cat(
            "actions are invalid with specified match: set_field ", name, " needs a VLAN header"));
      }
      continue;
    }
    Match m = match;
    FieldMatch fm;
    fm.field = sf->field;
    fm.value = sf->value;
    m.Put(fm);
    absl::Status st = ti::CheckPrerequisites(m);
    if (!st.ok()) {
      return absl::InvalidArgumentError(Cat("actions are invalid with specified match: set_field ",
                                            name, " lacks prerequisites"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FlowMod> ParseFlow(std::string_view text, FlowModCommand command) {
  FlowMod fm;
  fm.command = command;
  if (IsDelete(command)) fm.table_id = kTableAll;

  std::string_view match_text = text, act_text;
  bool has_actions = false;
  size_t act = text.find("action");
  if (act != std::string_view::npos) {
    size_t eq = text.find('=', act);
    if (eq == std::string_view::npos)
      return ti::Invalid("must specify an action", text.substr(act));
    match_text = text.substr(0, act);
    act_text = text.substr(eq + 1);
    has_actions = true;
  }
  if (has_actions && IsDelete(command)) {
    return ti::Invalid("unknown keyword (deletes take no actions)", "actions");
  }
  if (!has_actions && IsAddOrModify(command)) {
    return absl::InvalidArgumentError("must specify an action");
  }

  ti::MatchBuilder mb;
  ti::KeyValue kv;
  bool strict_or_add = command != FlowModCommand::kDelete;
  while (ti::NextKeyValue(&match_text, &kv)) {
    ASSIGN_OR_RETURN(bool used, mb.Add(kv));
    if (used) continue;
    std::string_view k = kv.key;
    bool flag_done = false;
    for (const auto& f : kFlowFlags) {
      if (k == f.name && IsAddOrModify(command)) {
        fm.flags |= f.flag;
        flag_done = true;
      }
    }
    if (flag_done) continue;
    if (k == "duration" || k == "n_packets" || k == "n_bytes" || k == "idle_age" ||
        k == "hard_age") {
      continue;  // dump-flows output fed back in, as ovs-ofctl allows.
    }
    if (kv.value.empty()) return ti::Invalid("field is missing its value", k);
    std::string token = Cat(k, "=", kv.value);
    if (k == "table") {
      auto t = ti::ParseUint(kv.value, 255);
      if (!t) return ti::Invalid("unknown table", token);
      fm.table_id = static_cast<uint8_t>(*t);
    } else if (k == "priority" && strict_or_add) {
      ASSIGN_OR_RETURN(uint64_t p, ti::ParseUintNamed(kv.value, 0xffff, "priority"));
      fm.priority = static_cast<uint16_t>(p);
    } else if (k == "idle_timeout" && IsAddOrModify(command)) {
      ASSIGN_OR_RETURN(uint64_t v, ti::ParseUintNamed(kv.value, 0xffff, "idle_timeout"));
      fm.idle_timeout = static_cast<uint16_t>(v);
    } else if (k == "hard_timeout" && IsAddOrModify(command)) {
      ASSIGN_OR_RETURN(uint64_t v, ti::ParseUintNamed(kv.value, 0xffff, "hard_timeout"));
      fm.hard_timeout = static_cast<uint16_t>(v);
    } else if (k == "out_port" && IsDelete(command)) {
      auto p = ti::ParsePort(kv.value);
      if (!p) return ti::Invalid("not a valid OpenFlow port", token);
      fm.out_port = *p;
    } else if (k == "out_group" && IsDelete(command)) {
      auto g = EqualsIgnoreCase(kv.value, "any")   ? std::optional<uint64_t>(kGroupAny)
               : EqualsIgnoreCase(kv.value, "all") ? std::optional<uint64_t>(kGroupAll)
                                                   : ti::ParseUint(kv.value, UINT32_MAX);
      if (!g) return ti::Invalid("not a valid OpenFlow group", token);
      fm.out_group = static_cast<uint32_t>(*g);
    } else if (k == "cookie") {
      size_t slash = kv.value.find('/');
      if (slash != std::string_view::npos) {
        if (command == FlowModCommand::kAdd) {
          return ti::Invalid("flow additions cannot use a cookie mask", token);
        }
        auto v = ti::ParseUint(kv.value.substr(0, slash), UINT64_MAX);
        std::string_view ms = kv.value.substr(slash + 1);
        auto m = ms == "-1" ? std::optional<uint64_t>(UINT64_MAX) : ti::ParseUint(ms, UINT64_MAX);
        if (!v || !m) return ti::Invalid("invalid cookie", token);
        fm.cookie = *v & *m;
        fm.cookie_mask = *m;
      } else {
        if (IsDelete(command)) {
          return ti::Invalid("cannot set cookie (to match on a cookie, specify a mask)", token);
        }
        ASSIGN_OR_RETURN(fm.cookie, ti::ParseUintNamed(kv.value, UINT64_MAX, "cookie"));
      }
    } else {
      return ti::Invalid("unknown keyword", k);
    }
  }
  ASSIGN_OR_RETURN(fm.match, mb.Finish());
  if (has_actions) {
    ASSIGN_OR_RETURN(fm.instructions, ti::ParseInstructionsText(act_text));
    const Instructions& ins = fm.instructions;
    RETURN_IF_ERROR(CheckActions(ins.apply_actions, fm.match));
    if (ins.write_actions) RETURN_IF_ERROR(CheckActions(*ins.write_actions, fm.match));
    if (ins.goto_table && fm.table_id != kTableAll && *ins.goto_table <= fm.table_id) {
      return ti::Invalid("goto_table must go to a later table",
                         Cat("goto_table:", *ins.goto_table));
    }
  }
  return fm;
}

std::string FormatFlowSpec(const FlowMod& f) {
  std::string s;
  s.reserve(128);
  Append(s, "table=", f.table_id);
  if (f.command != FlowModCommand::kDelete) Append(s, ",priority=", f.priority);
  if (f.cookie_mask != 0 && f.command != FlowModCommand::kAdd) {
    s += ",cookie=";
    ti::AppendHex(s, f.cookie);
    s += '/';
    ti::AppendHex(s, f.cookie_mask);
  } else if (f.cookie != 0 && IsAddOrModify(f.command)) {
    s += ",cookie=";
    ti::AppendHex(s, f.cookie);
  }
  if (IsAddOrModify(f.command)) {
    if (f.idle_timeout) Append(s, ",idle_timeout=", f.idle_timeout);
    if (f.hard_timeout) Append(s, ",hard_timeout=", f.hard_timeout);
    for (const auto& fl : kFlowFlags) {
      if (f.flags & fl.flag) Append(s, ",", fl.name);
    }
  } else {
    if (f.out_port != kPortAny) {
      s += ",out_port=";
      ti::AppendPort(s, f.out_port);
    }
    if (f.out_group != kGroupAny) Append(s, ",out_group=", f.out_group);
  }
  if (!f.match.empty()) {
    s += ',';
    ti::AppendMatch(s, f.match, -1);
  }
  if (IsAddOrModify(f.command)) {
    s += ",actions=";
    ti::AppendInstructions(s, f.instructions);
  }
  return s;
}

}  // namespace shortcut::of
