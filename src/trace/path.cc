#include "src/trace/path.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/model/address.h"
#include "src/openflow/constants.h"
#include "src/openflow/text.h"
#include "src/pipeline/gateway_pipeline.h"
#include "src/pipeline/pipeline.h"

namespace shortcut::trace {
namespace {

using of::Field;

constexpr uint32_t kStandInVmPort = 1000;
constexpr uint32_t kStandInHostPort = 2000;

std::string Ip(uint32_t ip) { return model::FormatIpv4(ip); }

// iface-id → ofport on `host`: the switch's own, else stand-ins.
std::map<std::string, uint32_t> PortsOf(const TraceInput& in, const std::string& host) {
  if (auto live = in.live_ofports.find(host); live != in.live_ofports.end()) return live->second;
  std::vector<const EndpointInfo*> here;
  for (const EndpointInfo& e : in.endpoints) {
    if (e.host == host) here.push_back(&e);
  }
  std::sort(here.begin(), here.end(),
            [](const EndpointInfo* a, const EndpointInfo* b) { return a->key < b->key; });
  std::map<std::string, uint32_t> ports;
  for (size_t i = 0; i < here.size(); ++i) {
    ports[here[i]->iface_id] = kStandInVmPort + 1 + static_cast<uint32_t>(i);
  }
  return ports;
}

std::vector<const GatewayInfo*> Serving(const TraceInput& in) {
  std::vector<const GatewayInfo*> out;
  for (const GatewayInfo& g : in.gateways) {
    if (g.serving) out.push_back(&g);
  }
  std::sort(out.begin(), out.end(),
            [](const GatewayInfo* a, const GatewayInfo* b) { return a->name < b->name; });
  return out;
}

reconcile::SwitchState HostComputed(const TraceInput& in, const std::string& host) {
  pipeline::HostRules rules;
  rules.cluster_id = in.cluster_id;
  for (const GatewayInfo* g : Serving(in)) rules.gateway_ports.push_back(g->tunnel_ofport);
  rules.vpcs.push_back({in.vni, in.router_mac});
  std::map<std::string, uint32_t> ports = PortsOf(in, host);
  for (const EndpointInfo& e : in.endpoints) {
    if (e.host != host) continue;
    auto p = ports.find(e.iface_id);
    if (p == ports.end()) continue;  // Not bound on the switch: no rules.
    rules.vms.push_back({in.vni, e.ipv4, e.mac, p->second});
  }
  return pipeline::BuildHostState(rules);
}

reconcile::SwitchState GatewayComputed(const TraceInput& in) {
  reconcile::SwitchState s = pipeline::BuildGatewayBase({});
  s.AddFlow(pipeline::GatewayVpcFlow(in.vni));
  for (const EndpointInfo& e : in.endpoints) {
    auto h = in.host_underlay.find(e.host);
    if (h == in.host_underlay.end()) continue;
    s.AddFlow(pipeline::GatewayEndpointFlow(in.vni, e.ipv4, h->second));
  }
  return s;
}

const EndpointInfo* EndpointAt(const TraceInput& in, uint32_t ipv4) {
  for (const EndpointInfo& e : in.endpoints) {
    if (e.ipv4 == ipv4) return &e;
  }
  return nullptr;
}

std::string HostWithUnderlay(const TraceInput& in, uint32_t ip) {
  for (const auto& [name, u] : in.host_underlay) {
    if (u == ip) return name;
  }
  return "";
}

// The inner packet the source VM sends (its ARP answered with the router MAC).
Packet FirstPacket(const TraceInput& in) {
  Packet p;
  of::FieldBytes mac{};
  std::copy(in.src.mac.begin(), in.src.mac.end(), mac.begin());
  p.SetBytes(Field::kEthSrc, mac);
  std::copy(in.router_mac.begin(), in.router_mac.end(), mac.begin());
  p.SetBytes(Field::kEthDst, mac);
  p.Set(Field::kEthType, 0x0800);
  p.Set(Field::kIpv4Src, in.src.ipv4);
  p.Set(Field::kIpv4Dst, in.dst_ipv4);
  p.Set(Field::kIpProto, in.ip_proto);
  if (in.ip_proto == 1) {
    p.Set(Field::kIcmpv4Type, 8);
    p.Set(Field::kIcmpv4Code, 0);
  } else if (in.ip_proto == 6) {
    p.Set(Field::kTcpSrc, 40000);
    p.Set(Field::kTcpDst, in.dst_port);
  } else if (in.ip_proto == 17) {
    p.Set(Field::kUdpSrc, 40000);
    p.Set(Field::kUdpDst, in.dst_port);
  }
  return p;
}

// Inner headers, as they crossed a tunnel: no in_port, metadata or tunnel
// fields of the previous bridge.
Packet Tunnelled(const Packet& out, uint32_t in_port, uint32_t tun_src, uint32_t tun_dst) {
  Packet p;
  for (const auto& [f, v] : out.fields()) {
    if (f == Field::kInPort || f == Field::kMetadata || f == Field::kTunIpv4Src ||
        f == Field::kTunIpv4Dst || f >= Field::kReg0) {
      continue;
    }
    p.SetBytes(f, v);
  }
  p.Set(Field::kInPort, in_port);
  p.Set(Field::kTunIpv4Src, tun_src);
  p.Set(Field::kTunIpv4Dst, tun_dst);
  return p;
}

std::string VmName(const TraceInput& in, const std::string& host, uint32_t port) {
  for (const auto& [iface, p] : PortsOf(in, host)) {
    if (p != port) continue;
    for (const EndpointInfo& e : in.endpoints) {
      if (e.host == host && e.iface_id == iface) return e.key;
    }
    return "iface-id " + iface;
  }
  return "";
}

// Where a host's walk sent the packet, and the hops it leads to.
struct Next {
  std::string node;
  bool gateway = false;
  Packet packet;
};

std::vector<std::string> HostDisposition(const TraceInput& in, const std::string& host,
                                         const Walk& w, std::vector<Next>* next) {
  std::vector<std::string> lines;
  const uint32_t here = in.host_underlay.count(host) ? in.host_underlay.at(host) : 0;
  for (const Output& o : w.outputs) {
    if (o.port == pipeline::kTunnelOfport) {
      uint32_t to = static_cast<uint32_t>(o.packet.Get(Field::kTunIpv4Dst));
      std::string dst = HostWithUnderlay(in, to);
      lines.push_back(absl::StrCat("direct path: out sc-tun (", o.port, ") to ",
                                   dst.empty() ? "an unknown host" : dst, " (", Ip(to), "), VNI ",
                                   o.packet.Get(Field::kTunnelId)));
      if (next && !dst.empty()) {
        next->push_back({dst, false, Tunnelled(o.packet, pipeline::kTunnelOfport, here, to)});
      }
      continue;
    }
    std::string vm = VmName(in, host, o.port);
    if (!vm.empty()) {
      lines.push_back(absl::StrCat("delivered: out port ", o.port, " to ", vm));
      continue;
    }
    lines.push_back(absl::StrCat("out port ", o.port));
  }
  for (const GroupOut& g : w.groups) {
    if (g.missing) {
      lines.push_back(absl::StrCat("group ", g.group_id, ": no such group on the bridge: dropped"));
      continue;
    }
    if (g.buckets.empty()) {
      lines.push_back(
          absl::StrCat("group ", g.group_id, " has no bucket (no serving gateway): dropped"));
      continue;
    }
    lines.push_back(absl::StrCat("group ", g.group_id, " (select, ", g.buckets.size(),
                                 " buckets: the switch hashes the flow onto one live bucket)"));
    for (const Output& b : g.buckets) {
      const GatewayInfo* gw = nullptr;
      for (const GatewayInfo& cand : in.gateways) {
        if (cand.tunnel_ofport == b.port) gw = &cand;
      }
      if (gw == nullptr) {
        lines.push_back(absl::StrCat("  bucket out port ", b.port, ": no gateway of the cluster"));
        continue;
      }
      lines.push_back(absl::StrCat("  bucket out port ", b.port, " to ", gw->name, " (",
                                   Ip(gw->underlay), ", ", gw->state.empty() ? "?" : gw->state,
                                   ")"));
      if (next) {
        uint32_t host_rank = 0, i = 0;
        for (const auto& [name, u] : in.host_underlay) {
          ++i;
          if (name == host) host_rank = i;
        }
        next->push_back({gw->name, true,
                         Tunnelled(b.packet, kStandInHostPort + host_rank, here, gw->underlay)});
      }
    }
  }
  if (w.dropped()) {
    lines.push_back(w.steps.empty() || !w.steps.back().miss
                        ? "dropped"
                        : absl::StrCat("dropped: no flow in table ", w.steps.back().table));
  }
  return lines;
}

std::string Describe(const Packet& p) {
  of::Match m;
  for (const auto& [f, v] : p.fields()) {
    if ((f == Field::kMetadata || f >= Field::kTunnelId) && p.Get(f) == 0) continue;
    of::FieldMatch fm;
    fm.field = f;
    fm.value = v;
    m.Put(fm);
  }
  return of::FormatMatch(m);
}

std::string FlowText(const reconcile::FlowEntry& f) {
  return of::FormatFlowSpec(reconcile::ToFlowMod(f, of::FlowModCommand::kAdd));
}

}  // namespace

TraceResult Trace(const TraceInput& in) {
  TraceResult r;

  // The source host.
  Hop src;
  src.node = in.src.host;
  src.in = FirstPacket(in);
  {
    auto ports = PortsOf(in, in.src.host);
    auto p = ports.find(in.src.iface_id);
    src.in.Set(Field::kInPort, p == ports.end() ? 0 : p->second);
    if (p == ports.end()) src.then.push_back("the source's port is not on its host's bridge");
  }
  std::vector<Next> next;
  reconcile::SwitchState computed = HostComputed(in, in.src.host);
  Walk computed_walk = WalkBridge(computed, src.in);
  auto live = in.live_tables.find(in.src.host);
  bool direct = false;
  if (live != in.live_tables.end()) {
    src.live = true;
    src.walk = WalkBridge(live->second, src.in);
  } else {
    src.walk = computed_walk;
  }
  std::vector<std::string> then = HostDisposition(in, in.src.host, src.walk, &next);
  src.then.insert(src.then.end(), then.begin(), then.end());
  for (const Output& o : src.walk.outputs) direct |= o.port == pipeline::kTunnelOfport;
  if (src.live) {
    std::vector<std::string> want = HostDisposition(in, in.src.host, computed_walk, nullptr);
    if (want != then) {
      if (direct) {
        for (std::string& w : want) w = std::string(absl::StripLeadingAsciiWhitespace(w));
        src.then.push_back(
            "(a direct path installed on demand; without it: " + absl::StrJoin(want, "; ") + ")");
      } else {
        src.differs = absl::StrCat("computed: ", absl::StrJoin(want, "; "));
      }
    }
  }
  r.hops.push_back(std::move(src));

  // Gateways, then destination hosts (each walked once).
  std::set<std::string> done_hosts;
  std::vector<std::string> via;
  bool copied = false;
  for (size_t i = 0; i < next.size(); ++i) {
    Next n = next[i];
    Hop hop;
    hop.node = n.node;
    hop.gateway = n.gateway;
    hop.in = n.packet;
    if (n.gateway) {
      via.push_back(n.node);
      hop.walk = WalkBridge(GatewayComputed(in), hop.in);
      uint32_t gw_underlay = 0, gw_port = 0;
      for (const GatewayInfo& g : in.gateways) {
        if (g.name == n.node) {
          gw_underlay = g.underlay;
          gw_port = g.tunnel_ofport;
        }
      }
      if (hop.walk.controller_copies > 0) {
        copied = true;
        hop.then.push_back(
            absl::StrCat("copy to shortcut-gatewayd (metered): it installs the "
                         "direct path on ",
                         in.src.host));
      }
      for (const Output& o : hop.walk.outputs) {
        uint32_t to = static_cast<uint32_t>(o.packet.Get(Field::kTunIpv4Dst));
        std::string dst = HostWithUnderlay(in, to);
        hop.then.push_back(absl::StrCat("forwarded: out port ", of::FormatPort(o.port), " to ",
                                        dst.empty() ? "an unknown host" : dst, " (", Ip(to), ")"));
        if (!dst.empty() && !done_hosts.contains(dst)) {
          done_hosts.insert(dst);
          next.push_back({dst, false, Tunnelled(o.packet, gw_port, gw_underlay, to)});
        }
      }
      if (hop.walk.outputs.empty()) {
        hop.then.push_back(
            absl::StrCat("dropped: no endpoint ", Ip(in.dst_ipv4), " in VPC ", in.vpc));
      }
    } else {
      done_hosts.insert(n.node);
      auto lt = in.live_tables.find(n.node);
      Walk computed_dst = WalkBridge(HostComputed(in, n.node), hop.in);
      if (lt != in.live_tables.end()) {
        hop.live = true;
        hop.walk = WalkBridge(lt->second, hop.in);
      } else {
        hop.walk = computed_dst;
      }
      hop.then = HostDisposition(in, n.node, hop.walk, nullptr);
      if (hop.live) {
        std::vector<std::string> want = HostDisposition(in, n.node, computed_dst, nullptr);
        if (want != hop.then) hop.differs = absl::StrCat("computed: ", absl::StrJoin(want, "; "));
      }
    }
    r.hops.push_back(std::move(hop));
  }

  // One line for the whole path.
  const EndpointInfo* dst = EndpointAt(in, in.dst_ipv4);
  std::string to = dst ? absl::StrCat(dst->key, " on ", dst->host) : Ip(in.dst_ipv4);
  bool delivered = false;
  for (const Hop& h : r.hops) {
    for (const std::string& line : h.then) delivered |= line.starts_with("delivered");
  }
  if (direct) {
    r.summary = absl::StrCat(in.src.key, " -> ", to, ": direct, ", in.src.host, " -> ",
                             dst ? dst->host : "?", delivered ? "" : " (not delivered)");
  } else if (!via.empty()) {
    r.summary = absl::StrCat(
        in.src.key, " -> ", to, ": first packets via gateway ", absl::StrJoin(via, " or "),
        " (by hash)", delivered ? "" : "; not delivered",
        copied && delivered ? "; later packets direct once the gateway installed the path" : "");
  } else {
    r.summary = absl::StrCat(in.src.key, " -> ", to, ": ",
                             delivered ? "delivered on " + in.src.host : "not delivered");
  }
  return r;
}

std::string OfprotoFlow(const Hop& hop) { return Describe(hop.in); }

std::string OfprotoVerdict(const Hop& hop, std::string_view text) {
  // ofproto/trace prints each flow as " T. MATCH, priority P, cookie C"
  // and its actions indented below; "Final flow:" ends the bridge part.
  std::vector<std::string> theirs, ours;
  std::set<std::string> their_out, our_out;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    if (absl::StartsWith(line, "Final flow:")) break;
    absl::string_view t = absl::StripLeadingAsciiWhitespace(line);
    size_t dot = t.find(". ");
    size_t prio = t.rfind(", priority ");
    size_t cookie = t.rfind(", cookie ");
    if (dot != absl::string_view::npos && dot > 0 && dot <= 3 &&
        std::all_of(t.begin(), t.begin() + dot, [](char c) { return c >= '0' && c <= '9'; }) &&
        prio != absl::string_view::npos && cookie != absl::string_view::npos && cookie > prio) {
      theirs.push_back(absl::StrCat("table ", t.substr(0, dot), " priority ",
                                    t.substr(prio + 11, cookie - prio - 11), " cookie ",
                                    t.substr(cookie + 9)));
      continue;
    }
    if (absl::StartsWith(t, "output:") || absl::StartsWith(t, "group:")) {
      their_out.insert(std::string(t));
    }
  }
  for (const Step& s : hop.walk.steps) {
    if (s.miss) continue;
    ours.push_back(absl::StrCat("table ", s.table, " priority ", s.flow.key.priority, " cookie 0x",
                                absl::Hex(s.flow.cookie)));
  }
  for (const Output& o : hop.walk.outputs) our_out.insert(absl::StrCat("output:", o.port));
  for (const GroupOut& g : hop.walk.groups) our_out.insert(absl::StrCat("group:", g.group_id));
  // IN_PORT prints as such in ofproto/trace; it is resolved here.
  if (their_out.erase("output:IN_PORT") > 0) {
    their_out.insert(absl::StrCat("output:", hop.in.Get(Field::kInPort)));
  }
  if (theirs.empty()) return "DIFFERS: ofproto/trace printed no flow (is the bridge br-int?)";
  std::string path = absl::StrJoin(ours, ", ");
  std::string outs = absl::StrJoin(our_out, ",");
  if (theirs == ours && their_out == our_out) {
    return absl::StrCat("agrees: ", path, " -> ", outs.empty() ? "drop" : outs);
  }
  return absl::StrCat("DIFFERS: ofproto/trace went ", absl::StrJoin(theirs, ", "), " -> ",
                      their_out.empty() ? "drop" : absl::StrJoin(their_out, ","), "; this trace ",
                      path, " -> ", outs.empty() ? "drop" : outs);
}

std::string FormatTrace(const TraceInput& in, const TraceResult& r) {
  std::string out;
  for (const Hop& h : r.hops) {
    absl::StrAppend(&out, h.node, h.gateway ? " (gateway)" : " (host)",
                    h.live ? ", the switch's own tables" : ", computed", "\n");
    absl::StrAppend(&out, "  packet: ", Describe(h.in), "\n");
    for (const Step& s : h.walk.steps) {
      if (s.miss) {
        absl::StrAppend(&out, "  table ", s.table, ": no flow matches\n");
      } else {
        absl::StrAppend(&out, "  table ", s.table, ": ", FlowText(s.flow), "\n");
      }
      for (const std::string& n : s.notes) absl::StrAppend(&out, "    note: ", n, "\n");
    }
    for (const std::string& t : h.then) absl::StrAppend(&out, "  -> ", t, "\n");
    if (!h.differs.empty()) absl::StrAppend(&out, "  DIFFERS from the ", h.differs, "\n");
    if (!h.ofproto.empty()) absl::StrAppend(&out, "  ofproto/trace ", h.ofproto, "\n");
  }
  bool stand_ins = false;
  for (const Hop& h : r.hops) stand_ins |= !h.gateway && !in.live_ofports.contains(h.node);
  if (stand_ins) {
    absl::StrAppend(&out, "(ports of VMs on hosts not read: numbered ", kStandInVmPort + 1,
                    "... by endpoint key; gateway ports toward hosts ", kStandInHostPort + 1,
                    "...)\n");
  }
  absl::StrAppend(&out, r.summary, "\n");
  return out;
}

nlohmann::json TraceJson(const TraceInput&, const TraceResult& r) {
  nlohmann::json hops = nlohmann::json::array();
  for (const Hop& h : r.hops) {
    nlohmann::json steps = nlohmann::json::array();
    for (const Step& s : h.walk.steps) {
      nlohmann::json step = {{"table", s.table}};
      if (s.miss) {
        step["miss"] = true;
      } else {
        step["flow"] = FlowText(s.flow);
      }
      if (!s.notes.empty()) step["notes"] = s.notes;
      steps.push_back(std::move(step));
    }
    nlohmann::json hop = {{"node", h.node}, {"kind", h.gateway ? "gateway" : "host"},
                          {"live", h.live}, {"packet", Describe(h.in)},
                          {"steps", steps}, {"then", h.then}};
    if (!h.differs.empty()) hop["differs"] = h.differs;
    if (!h.ofproto.empty()) hop["ofproto_trace"] = h.ofproto;
    hops.push_back(std::move(hop));
  }
  return {{"hops", hops}, {"summary", r.summary}};
}

}  // namespace shortcut::trace
