#include "src/trace/walk.h"

#include <algorithm>
#include <variant>

#include "absl/strings/str_cat.h"
#include "src/openflow/constants.h"

namespace shortcut::trace {
namespace {

constexpr int kMaxSteps = 64;

bool GetBit(const of::FieldBytes& b, of::Field f, int bit) {
  int width = of::GetFieldInfo(f).width;
  int byte = width - 1 - bit / 8;
  return (b[byte] >> (bit % 8)) & 1;
}

void SetBit(of::FieldBytes& b, of::Field f, int bit, bool on) {
  int width = of::GetFieldInfo(f).width;
  int byte = width - 1 - bit / 8;
  uint8_t m = static_cast<uint8_t>(1u << (bit % 8));
  b[byte] = on ? (b[byte] | m) : (b[byte] & static_cast<uint8_t>(~m));
}

// The flow of `table` the packet matches, highest priority first.
const reconcile::FlowEntry* Lookup(const reconcile::SwitchState& state, uint8_t table,
                                   const Packet& p, std::vector<std::string>* notes) {
  const reconcile::FlowEntry* best = nullptr;
  int ties = 0;
  for (const auto& [key, flow] : state.flows()) {
    if (key.table != table || !p.Matches(key.match)) continue;
    if (best == nullptr || key.priority > best->key.priority) {
      best = &flow;
      ties = 0;
    } else if (key.priority == best->key.priority) {
      ++ties;
    }
  }
  if (ties > 0) {
    notes->push_back(absl::StrCat(ties + 1, " flows of priority ", best->key.priority,
                                  " match: which one the switch picks is undefined"));
  }
  return best;
}

struct Walker {
  const reconcile::SwitchState& state;
  Walk walk;
  int steps = 0;

  // Runs `actions` on `p`; outputs recorded.
  void Apply(const of::ActionList& actions, Packet& p, size_t step_index) {
    for (const of::Action& a : actions) {
      if (auto* o = std::get_if<of::ActionOutput>(&a)) {
        uint32_t port = o->port;
        if (port == of::kPortInPort) port = static_cast<uint32_t>(p.Get(of::Field::kInPort));
        if (port == of::kPortController) {
          ++walk.controller_copies;
        } else {
          walk.outputs.push_back({port, p});
        }
      } else if (auto* g = std::get_if<of::ActionGroup>(&a)) {
        GroupOut out;
        out.group_id = g->group_id;
        const reconcile::GroupEntry* group = state.FindGroup(g->group_id);
        if (group == nullptr) {
          out.missing = true;
        } else {
          out.type = group->type;
          for (const of::Bucket& b : group->buckets) {
            Packet copy = p;
            for (const of::Action& ba : b.actions) {
              if (auto* bo = std::get_if<of::ActionOutput>(&ba)) {
                uint32_t port = bo->port == of::kPortInPort
                                    ? static_cast<uint32_t>(p.Get(of::Field::kInPort))
                                    : bo->port;
                out.buckets.push_back({port, copy});
              } else if (auto* bs = std::get_if<of::ActionSetField>(&ba)) {
                copy.SetBytes(bs->field, bs->value);
              }
            }
            out.watch_ports.push_back(b.watch_port);
          }
        }
        walk.groups.push_back(std::move(out));
      } else if (auto* s = std::get_if<of::ActionSetField>(&a)) {
        p.SetBytes(s->field, s->value);
      } else if (auto* m = std::get_if<of::ActionMove>(&a)) {
        of::FieldBytes src{}, dst{};
        if (p.Has(m->src)) src = p.fields().at(m->src);
        if (p.Has(m->dst)) dst = p.fields().at(m->dst);
        for (int i = 0; i < m->n_bits; ++i) {
          SetBit(dst, m->dst, m->dst_ofs + i, GetBit(src, m->src, m->src_ofs + i));
        }
        p.SetBytes(m->dst, dst);
      } else if (std::holds_alternative<of::ActionController>(a)) {
        ++walk.controller_copies;
      } else if (auto* r = std::get_if<of::ActionResubmit>(&a)) {
        Packet again = p;
        if (r->in_port != of::kPortInPort) again.Set(of::Field::kInPort, r->in_port);
        uint8_t table = r->table == of::kTableAll ? walk.steps[step_index].table : r->table;
        Table(table, again);
      } else {
        walk.steps[step_index].notes.push_back("VLAN or TTL action not simulated");
      }
    }
  }

  void Table(uint8_t table, Packet p) {
    while (true) {
      if (++steps > kMaxSteps) {
        Step loop;
        loop.table = table;
        loop.miss = true;
        loop.notes.push_back("more than 64 steps: a loop; stopped");
        walk.steps.push_back(std::move(loop));
        return;
      }
      Step step;
      step.table = table;
      const reconcile::FlowEntry* flow = Lookup(state, table, p, &step.notes);
      if (flow == nullptr) {
        step.miss = true;
        walk.steps.push_back(std::move(step));
        return;
      }
      step.flow = *flow;
      const of::Instructions& ins = flow->instructions;
      size_t index = walk.steps.size();
      walk.steps.push_back(std::move(step));
      Apply(ins.apply_actions, p, index);
      if (ins.write_actions) {
        // Shortcut never writes an action set; run it at the end as the
        // switch would (good enough for a flow that ends the pipeline).
        Apply(*ins.write_actions, p, index);
      }
      if (ins.write_metadata) {
        uint64_t md = p.Get(of::Field::kMetadata);
        md = (md & ~ins.write_metadata->mask) |
             (ins.write_metadata->value & ins.write_metadata->mask);
        p.Set(of::Field::kMetadata, md);
      }
      if (!ins.goto_table) return;
      table = *ins.goto_table;
    }
  }
};

}  // namespace

void Packet::Set(of::Field f, uint64_t value) { fields_[f] = of::FieldBytesFromU64(f, value); }

uint64_t Packet::Get(of::Field f) const {
  auto it = fields_.find(f);
  return it == fields_.end() ? 0 : of::FieldBytesToU64(f, it->second);
}

bool Packet::Matches(const of::Match& match) const {
  for (const of::FieldMatch& m : match.fields()) {
    auto it = fields_.find(m.field);
    if (it == fields_.end()) {
      // Metadata, tunnel fields and registers are zero when unset (the
      // tunnel fields and registers come last in the canonical order).
      if (m.field != of::Field::kMetadata && m.field < of::Field::kTunnelId) return false;
    }
    of::FieldBytes have = it == fields_.end() ? of::FieldBytes{} : it->second;
    int width = of::GetFieldInfo(m.field).width;
    for (int i = 0; i < width; ++i) {
      uint8_t mask = m.masked ? m.mask[i] : 0xff;
      if ((have[i] & mask) != (m.value[i] & mask)) return false;
    }
  }
  return true;
}

Walk WalkBridge(const reconcile::SwitchState& state, Packet packet) {
  Walker w{state, {}, 0};
  w.Table(0, std::move(packet));
  return std::move(w.walk);
}

}  // namespace shortcut::trace
