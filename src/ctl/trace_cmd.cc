#include "src/ctl/trace_cmd.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "src/common/subprocess.h"
#include "src/ctl/host_cmd.h"
#include "src/ctl/switch_cmd.h"
#include "src/model/address.h"
#include "src/trace/path.h"

namespace shortcut::ctl {
namespace {

namespace v1 = manager::v1;
using Stub = v1::Manager::Stub;

std::unique_ptr<grpc::ClientContext> Context(double seconds) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
  return c;
}

int Failed(const grpc::Status& s, std::ostream& err) {
  err << "shortcutctl: " << absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code()))
      << ": " << s.error_message() << "\n";
  return 1;
}

trace::EndpointInfo Info(const v1::Endpoint& e) {
  trace::EndpointInfo i;
  i.key = e.key();
  i.host = e.host();
  i.iface_id = e.iface_id().empty() ? e.key() : e.iface_id();
  i.ipv4 = model::ParseIpv4(e.ipv4()).value_or(0);
  i.mac = model::ParseMac(e.mac()).value_or(of::MacAddr{});
  i.online = e.status() == v1::ENDPOINT_STATUS_ONLINE;
  return i;
}

}  // namespace

int RunTrace(ManagerClient& client, const TraceArgs& a, std::ostream& out, std::ostream& err) {
  trace::TraceInput in;
  auto dst = model::ParseIpv4(a.dst);
  if (!dst) {
    err << "shortcutctl: trace: '" << a.dst << "' is not an IPv4 address\n";
    return 2;
  }
  in.dst_ipv4 = *dst;
  if (a.proto == "icmp") {
    in.ip_proto = 1;
  } else if (a.proto == "tcp") {
    in.ip_proto = 6;
  } else if (a.proto == "udp") {
    in.ip_proto = 17;
  } else {
    err << "shortcutctl: trace: --proto '" << a.proto << "' is not icmp, tcp or udp\n";
    return 2;
  }
  in.dst_port = static_cast<uint16_t>(a.dport);
  if (!a.appctl.empty() && !a.live) {
    err << "shortcutctl: trace: --appctl needs --live (ofproto/trace needs the real ports)\n";
    return 2;
  }

  // The source, its VPC, the VPC's endpoints, hosts and gateways.
  v1::Endpoint src;
  {
    v1::GetEndpointRequest r;
    r.set_key(a.key);
    grpc::Status s = client.Try(
        [&](Stub& stub) { return stub.GetEndpoint(Context(a.timeout_s).get(), r, &src); });
    if (!s.ok()) return Failed(s, err);
  }
  in.src = Info(src);
  v1::Vpc vpc;
  {
    v1::GetVpcRequest r;
    r.set_id(src.vpc());
    grpc::Status s =
        client.Try([&](Stub& stub) { return stub.GetVpc(Context(a.timeout_s).get(), r, &vpc); });
    if (!s.ok()) return Failed(s, err);
  }
  in.vpc = vpc.id();
  in.vni = vpc.vni();
  in.router_mac = model::ParseMac(vpc.router_mac()).value_or(of::MacAddr{});
  in.cluster_id = vpc.cluster_id();
  std::string token;
  do {
    v1::ListEndpointsRequest r;
    r.set_vpc(src.vpc());
    r.set_page_token(token);
    v1::ListEndpointsResponse page;
    grpc::Status s = client.Try(
        [&](Stub& stub) { return stub.ListEndpoints(Context(a.timeout_s).get(), r, &page); });
    if (!s.ok()) return Failed(s, err);
    for (const v1::Endpoint& e : page.endpoints()) in.endpoints.push_back(Info(e));
    token = page.next_page_token();
  } while (!token.empty());
  std::map<std::string, v1::Host> hosts;
  token.clear();
  do {
    v1::ListHostsRequest r;
    r.set_page_token(token);
    v1::ListHostsResponse page;
    grpc::Status s = client.Try(
        [&](Stub& stub) { return stub.ListHosts(Context(a.timeout_s).get(), r, &page); });
    if (!s.ok()) return Failed(s, err);
    for (const v1::Host& h : page.hosts()) {
      hosts[h.name()] = h;
      in.host_underlay[h.name()] = model::ParseIpv4(h.underlay_ip()).value_or(0);
    }
    token = page.next_page_token();
  } while (!token.empty());
  token.clear();
  do {
    v1::ListGatewaysRequest r;
    r.set_page_token(token);
    v1::ListGatewaysResponse page;
    grpc::Status s = client.Try(
        [&](Stub& stub) { return stub.ListGateways(Context(a.timeout_s).get(), r, &page); });
    if (!s.ok()) return Failed(s, err);
    for (const v1::Gateway& g : page.gateways()) {
      if (g.cluster_id() == 0 || g.cluster_id() != vpc.cluster_id()) continue;
      std::string state = v1::GatewayState_Name(g.state());
      if (state.starts_with("GATEWAY_STATE_")) state = state.substr(14);
      in.gateways.push_back({g.name(), model::ParseIpv4(g.underlay_ip()).value_or(0),
                             g.tunnel_ofport(), g.role() == v1::GATEWAY_ROLE_SERVING, state});
    }
    token = page.next_page_token();
  } while (!token.empty());

  // --live: the hosts at both ends, read from their switches.
  if (a.live) {
    std::vector<std::string> nodes = {src.host()};
    for (const trace::EndpointInfo& e : in.endpoints) {
      if (e.ipv4 == in.dst_ipv4 && e.host != src.host()) nodes.push_back(e.host);
    }
    for (const std::string& node : nodes) {
      auto h = hosts.find(node);
      if (h == hosts.end() || h->second.openflow().empty() || h->second.ovsdb().empty()) {
        err << "shortcutctl: trace: host " << node
            << ": no OpenFlow or OVSDB target registered; traced as computed\n";
        continue;
      }
      SwitchOptions so;
      so.target = h->second.openflow();
      so.timeout_ms = static_cast<Millis>(a.timeout_s * 1000);
      auto tables = ReadSwitchState(so);
      HostOptions ho;
      ho.db = h->second.ovsdb();
      ho.timeout_ms = so.timeout_ms;
      auto ports = tables.ok() ? ReadIfacePorts(ho) : tables.status();
      if (!tables.ok() || !ports.ok()) {
        err << "shortcutctl: trace: host " << node << ": "
            << (tables.ok() ? ports.status() : tables.status()).message()
            << "; traced as computed\n";
        continue;
      }
      in.live_tables[node] = std::move(*tables);
      in.live_ofports[node] = std::move(*ports);
    }
  }

  trace::TraceResult result = trace::Trace(in);
  for (trace::Hop& hop : result.hops) {
    auto ctl = a.appctl.find(hop.node);
    if (hop.gateway || ctl == a.appctl.end()) continue;
    RunOptions ro;
    ro.timeout_ms = static_cast<int>(a.timeout_s * 1000);
    RunResult r = RunProcess(
        {"ovs-appctl", "-t", ctl->second, "ofproto/trace", "br-int", trace::OfprotoFlow(hop)}, ro);
    hop.ofproto =
        r.ok() ? trace::OfprotoVerdict(hop, r.out)
               : absl::StrCat("could not run: ",
                              r.err.empty() ? "exit status " + std::to_string(r.exit_code) : r.err);
    while (!hop.ofproto.empty() && hop.ofproto.back() == '\n') hop.ofproto.pop_back();
  }
  if (a.json) {
    out << trace::TraceJson(in, result).dump() << "\n";
  } else {
    out << trace::FormatTrace(in, result);
  }
  return 0;
}

}  // namespace shortcut::ctl
