#include "src/ctl/manager_cmd.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "shortcut/manager/v1/manager.grpc.pb.h"
#include "src/ctl/manager_client.h"
#include "src/ctl/trace_cmd.h"
#include "src/model/offload_proto.h"

namespace shortcut::ctl {
namespace {

namespace v1 = manager::v1;
using Stub = v1::Manager::Stub;
using Client = ManagerClient;

constexpr size_t kLoadBatch = 1000;

// ---- Output. ----

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// Columns padded to their widest cell, two spaces apart; the last unpadded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }
std::string OrDash(uint32_t n) { return n == 0 ? "-" : std::to_string(n); }

template <typename Repeated>
std::string Join(const Repeated& items) {
  std::vector<std::string> parts;
  for (const auto& i : items) parts.push_back(absl::StrCat(i));
  return parts.empty() ? "-" : absl::StrJoin(parts, ",");
}

std::string StatusName(v1::EndpointStatus s) {
  switch (s) {
    case v1::ENDPOINT_STATUS_ONLINE:
      return "ONLINE";
    case v1::ENDPOINT_STATUS_PENDING:
      return "PENDING";
    default:
      return "-";
  }
}

std::string GatewayStateName(v1::GatewayState s) {
  std::string name = v1::GatewayState_Name(s);
  return name.starts_with("GATEWAY_STATE_") ? name.substr(14) : name;
}

std::string GatewayRoleName(v1::GatewayRole r) {
  if (r == v1::GATEWAY_ROLE_UNSPECIFIED) return "-";  // A spare.
  std::string name = v1::GatewayRole_Name(r);
  return name.starts_with("GATEWAY_ROLE_") ? name.substr(13) : name;
}

std::vector<std::string> HostRow(const v1::Host& h) {
  return {h.name(),
          h.underlay_ip(),
          OrDash(h.openflow()),
          OrDash(h.ovsdb()),
          std::to_string(h.endpoints()),
          Join(h.clusters()),
          h.direct_path_budget() == 0 ? "default" : std::to_string(h.direct_path_budget())};
}
const std::vector<std::string> kHostHeader = {"NAME",      "UNDERLAY", "OPENFLOW",   "OVSDB",
                                              "ENDPOINTS", "CLUSTERS", "PATH-BUDGET"};

std::vector<std::string> GatewayRow(const v1::Gateway& g) {
  return {g.name(),
          g.underlay_ip(),
          g.grpc_address(),
          std::to_string(g.capacity()),
          OrDash(g.cluster_id()),
          std::to_string(g.tunnel_ofport()),
          GatewayStateName(g.state()),
          GatewayRoleName(g.role())};
}
const std::vector<std::string> kGatewayHeader = {"NAME",    "UNDERLAY", "GRPC",  "CAPACITY",
                                                 "CLUSTER", "OFPORT",   "STATE", "ROLE"};

std::vector<std::string> ClusterRow(const v1::Cluster& c) {
  return {std::to_string(c.id()), Join(c.members()), Join(c.vpcs()), std::to_string(c.capacity()),
          std::to_string(c.load())};
}
const std::vector<std::string> kClusterHeader = {"ID", "MEMBERS", "VPCS", "CAPACITY", "LOAD"};

std::string MoveText(const v1::Vpc& v) {
  if (v.moving_to() == 0) return "-";
  const char* phase = v.move_phase() == v1::VPC_MOVE_PHASE_SWITCHING ? "switching" : "loading";
  return absl::StrCat("to ", v.moving_to(), " (", phase, ")");
}

std::string OffloadText(const v1::OffloadPolicy& p) {
  return model::FormatOffload(model::OffloadOfProto(p));
}

// --offload and its thresholds as the API's message.
v1::OffloadPolicy OffloadArg(const std::string& mode, uint64_t packets, uint64_t bytes,
                             uint32_t window_ms) {
  v1::OffloadPolicy p;
  p.set_mode(mode == "threshold" ? v1::OFFLOAD_MODE_THRESHOLD : v1::OFFLOAD_MODE_FIRST_PACKET);
  p.set_packets(packets);
  p.set_bytes(bytes);
  p.set_window_ms(window_ms);
  return p;
}

std::vector<std::string> VpcRow(const v1::Vpc& v) {
  std::vector<std::string> nets;
  for (const auto& n : v.networks()) nets.push_back(n.id());
  return {v.id(),
          std::to_string(v.vni()),
          v.router_mac(),
          std::to_string(v.cluster_id()),
          MoveText(v),
          nets.empty() ? "-" : absl::StrJoin(nets, ","),
          std::to_string(v.endpoints()),
          OffloadText(v.offload())};
}
const std::vector<std::string> kVpcHeader = {"ID",     "VNI",      "ROUTER-MAC", "CLUSTER",
                                             "MOVING", "NETWORKS", "ENDPOINTS",  "OFFLOAD"};

std::vector<std::string> NetworkRow(const v1::Network& n) {
  return {n.vpc(), n.id(), n.ipv4_cidr(), OrDash(n.ipv6_cidr())};
}
const std::vector<std::string> kNetworkHeader = {"VPC", "ID", "IPV4", "IPV6"};

std::vector<std::string> EndpointRow(const v1::Endpoint& e) {
  return {e.key(),
          e.vpc(),
          e.network(),
          e.ipv4(),
          OrDash(e.ipv6()),
          e.mac(),
          e.host(),
          OrDash(e.iface_id()),
          StatusName(e.status())};
}
const std::vector<std::string> kEndpointHeader = {"KEY", "VPC",  "NETWORK",  "IPV4",  "IPV6",
                                                  "MAC", "HOST", "IFACE-ID", "STATUS"};

// Wall-clock ms since the epoch as UTC "YYYY-MM-DDTHH:MM:SSZ"; 0: "-".
std::string Utc(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RoleName(v1::ManagerRole r) {
  switch (r) {
    case v1::MANAGER_ROLE_ACTIVE:
      return "ACTIVE";
    case v1::MANAGER_ROLE_STANDBY:
      return "STANDBY";
    default:
      return "-";
  }
}

// One resource, for `show`: the list's header over its row, as FIELD VALUE lines.
std::string Show(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < header.size() && i < row.size(); ++i) rows.push_back({header[i], row[i]});
  return Table(rows);
}

// ---- Input. ----

absl::Status ReadInput(const std::string& path, std::string* text) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
    ss << f.rdbuf();
  }
  *text = ss.str();
  return absl::OkStatus();
}

// {"endpoints": [Endpoint...]} (protobuf's JSON mapping for each).
absl::Status ParseEndpointsFile(const std::string& text, const std::string& name,
                                std::vector<v1::Endpoint>* endpoints) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON: ", e.what()));
  }
  auto it = document.is_object() ? document.find("endpoints") : document.end();
  if (it == document.end() || !it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": must be a JSON object with an \"endpoints\" array"));
  }
  endpoints->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    v1::Endpoint e;
    auto parsed = google::protobuf::util::JsonStringToMessage((*it)[i].dump(), &e);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": endpoints[", i, "]: ", std::string(parsed.message())));
    }
    endpoints->push_back(std::move(e));
  }
  return absl::OkStatus();
}

// --network ID=CIDR[,CIDR6].
absl::Status ParseNetworkArg(const std::string& arg, v1::Network* network) {
  std::vector<std::string> kv = absl::StrSplit(arg, absl::MaxSplits('=', 1));
  if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--network '", arg, "': expected ID=IPV4-CIDR[,IPV6-CIDR]"));
  }
  std::vector<std::string> cidrs = absl::StrSplit(kv[1], ',');
  if (cidrs.size() > 2 || cidrs[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--network '", arg, "': expected ID=IPV4-CIDR[,IPV6-CIDR]"));
  }
  network->set_id(kv[0]);
  network->set_ipv4_cidr(cidrs[0]);
  if (cidrs.size() == 2) network->set_ipv6_cidr(cidrs[1]);
  return absl::OkStatus();
}

// ---- Calls. ----

int RpcError(const grpc::Status& status, std::ostream& err) {
  err << "shortcutctl: "
      << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
      << status.error_message() << "\n";
  return 1;
}

int InputError(const std::string& message, std::ostream& err) {
  err << "shortcutctl: " << message << "\n";
  return 2;
}

// A unary call; `human` formats the response unless --json.
template <typename Request, typename Response, typename Human>
int Unary(Client& client, bool json,
          grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
          const Request& request, Human human, std::ostream& out, std::ostream& err) {
  Response response;
  grpc::Status status = client.Try([&](Stub& stub) {
    auto context = client.Context();
    response.Clear();
    return (stub.*method)(context.get(), request, &response);
  });
  if (!status.ok()) return RpcError(status, err);
  out << (json ? ToJson(response) + "\n" : human(response));
  return 0;
}

// A list, every page: `items` names the response's repeated field (mutable
// accessor); all items land in one response.
template <typename Request, typename Response, typename Items, typename RowOf>
int List(Client& client, bool json,
         grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
         Request request, Items items, const std::vector<std::string>& header, RowOf row_of,
         std::ostream& out, std::ostream& err) {
  Response all;
  for (;;) {
    Response page;
    grpc::Status status = client.Try([&](Stub& stub) {
      auto context = client.Context();
      page.Clear();
      return (stub.*method)(context.get(), request, &page);
    });
    if (!status.ok()) return RpcError(status, err);
    for (auto& item : *items(page)) *items(all)->Add() = std::move(item);
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (json) {
    out << ToJson(all) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {header};
  for (const auto& item : *items(all)) rows.push_back(row_of(item));
  out << Table(rows);
  return 0;
}

int LoadEndpoints(Client& client, bool json, const std::vector<v1::Endpoint>& endpoints,
                  std::ostream& out, std::ostream& err) {
  v1::CreateEndpointsResponse response;
  grpc::Status status = client.Try([&](Stub& stub) {
    auto context = client.Context();
    response.Clear();
    auto writer = stub.CreateEndpoints(context.get(), &response);
    bool open = true;
    // At least one batch; the last is marked so (the server writes a stream
    // only once it has seen it).
    for (size_t i = 0; (i < endpoints.size() || i == 0) && open; i += kLoadBatch) {
      v1::CreateEndpointsRequest batch;
      size_t end = std::min(endpoints.size(), i + kLoadBatch);
      for (size_t j = i; j < end; ++j) *batch.add_endpoints() = endpoints[j];
      batch.set_last(end == endpoints.size());
      // A failed write means the server ended the call: Finish() says why.
      open = writer->Write(batch);
    }
    if (open) writer->WritesDone();
    return writer->Finish();
  });
  if (!status.ok()) return RpcError(status, err);
  if (json) {
    out << ToJson(response) << "\n";
  } else {
    out << response.created() << " endpoints created, " << response.unchanged() << " unchanged\n";
  }
  return 0;
}

// `manager status`: every server of the list, each as it sees itself.
int ManagerStatus(Client& client, bool json, std::ostream& out, std::ostream& err) {
  std::vector<std::vector<std::string>> rows = {
      {"SERVER", "NAME", "ROLE", "SINCE", "ACTIVE", "ACTIVE-ADDRESS", "STORE", "LEADER"}};
  nlohmann::json all = nlohmann::json::array();
  size_t answered = 0;
  for (size_t i = 0; i < client.size(); ++i) {
    auto context = client.Context();
    v1::ManagerStatus status;
    grpc::Status s =
        client.stub(i).GetManagerStatus(context.get(), v1::GetManagerStatusRequest(), &status);
    if (!s.ok()) {
      // Its row says DOWN; why goes to stderr (a long message would widen
      // every column).
      rows.push_back({client.server(i), "-", "DOWN", "-", "-", "-", "-", "-"});
      all.push_back({{"server", client.server(i)}, {"error", s.error_message()}});
      err << "shortcutctl: " << client.server(i) << ": "
          << absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())) << ": "
          << s.error_message() << "\n";
      continue;
    }
    ++answered;
    rows.push_back({client.server(i), OrDash(status.name()), RoleName(status.role()),
                    Utc(status.role_since_ms()), OrDash(status.active_name()),
                    OrDash(status.active_address()), OrDash(status.store_server()),
                    status.store_server().empty() ? "-" : (status.store_leader() ? "yes" : "no")});
    all.push_back(
        {{"server", client.server(i)}, {"status", nlohmann::json::parse(ToJson(status))}});
  }
  if (json) {
    out << nlohmann::json({{"managers", all}}).dump() << "\n";
  } else {
    out << Table(rows);
  }
  if (answered == 0) {
    err << "shortcutctl: UNAVAILABLE: no manager answered\n";
    return 1;
  }
  return 0;
}

int Watch(Client& client, bool json, const v1::WatchEndpointsRequest& request, uint64_t count,
          std::ostream& out, std::ostream& err) {
  // The first manager that answers (a standby serves watches too); after
  // the first event, a lost stream ends the command rather than repeat
  // events from another.
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReader<v1::EndpointEvent>> reader;
  v1::EndpointEvent event;
  uint64_t seen = 0;
  bool first = false;
  std::vector<std::string> answers;
  for (size_t i : client.Order()) {
    context = client.Context(/*deadline=*/false);
    reader = client.stub(i).WatchEndpoints(context.get(), request);
    first = reader->Read(&event);
    if (first) break;
    grpc::Status status = reader->Finish();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || client.size() == 1) {
      if (!status.ok()) return RpcError(status, err);
      return 0;
    }
    answers.push_back(absl::StrCat(client.server(i), ": ", status.error_message()));
  }
  if (!first) {
    return RpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrJoin(answers, "; ")), err);
  }
  while ((count == 0 || seen < count) && (first || reader->Read(&event))) {
    first = false;
    ++seen;
    if (json) {
      out << ToJson(event) << std::endl;  // Flushed: a reader acts on each event.
    } else {
      std::vector<std::string> cells = {v1::EndpointEvent::Kind_Name(event.kind())};
      for (std::string& c : EndpointRow(event.endpoint())) cells.push_back(std::move(c));
      out << absl::StrJoin(cells, " ") << std::endl;
    }
  }
  if (count != 0 && seen >= count) {
    context->TryCancel();
    (void)reader->Finish();
    return 0;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return RpcError(status, err);
  return 0;
}

// MoveVpc, then GetVpc until the VPC is on the cluster asked for (at most
// `timeout_s`): a script can go on once hosts take the VPC's rules from
// there and the old cluster dropped it.
int WaitMove(Client& client, bool json, const v1::MoveVpcRequest& request, double timeout_s,
             std::ostream& out, std::ostream& err) {
  auto start = std::chrono::steady_clock::now();
  v1::Vpc vpc;
  grpc::Status status = client.Try([&](Stub& stub) {
    auto context = client.Context();
    vpc.Clear();
    return stub.MoveVpc(context.get(), request, &vpc);
  });
  if (!status.ok()) return RpcError(status, err);
  auto deadline = start + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (vpc.moving_to() != 0 || vpc.cluster_id() != request.cluster_id()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      err << "shortcutctl: vpc " << request.id() << " not moved within " << timeout_s
          << " s: cluster " << vpc.cluster_id() << ", " << MoveText(vpc) << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    v1::GetVpcRequest get;
    get.set_id(request.id());
    status = client.Try([&](Stub& stub) {
      auto context = client.Context();
      vpc.Clear();
      return stub.GetVpc(context.get(), get, &vpc);
    });
    if (!status.ok()) return RpcError(status, err);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  out << (json ? ToJson(vpc) + "\n"
               : absl::StrCat("vpc ", vpc.id(), " moved to cluster ", vpc.cluster_id(), " in ", ms,
                              " ms\n"));
  return 0;
}

}  // namespace

ManagerCli::ManagerCli(CLI::App& app, CLI::App* host, CLI::App* host_show,
                       const ClientTlsOptions* tls)
    : app_(&app), host_show_(host_show), tls_(tls) {
  app.add_option("--server", server_,
                 "the manager's address: unix:/abs/path or HOST:PORT, or a comma-separated "
                 "list of the managers of one database (env SHORTCUT_MANAGER)")
      ->envname("SHORTCUT_MANAGER");
  app.add_flag("--json", json_, "print the manager's responses as JSON");
  app.add_option("--timeout", timeout_s_, "seconds to wait for each call to the manager (30)");

  auto leaf = [&](CLI::App* group, const std::string& name, const std::string& help) {
    CLI::App* cmd = group->add_subcommand(name, help);
    cmd->fallthrough();  // Global options may follow: `vpc list --json`.
    leaves_[absl::StrCat(group->get_name(), " ", name)] = cmd;
    return cmd;
  };
  auto group = [&](const std::string& name, const std::string& help) {
    CLI::App* g = app.add_subcommand(name, help);
    g->require_subcommand(1);
    g->fallthrough();
    return g;
  };

  // host: the existing command gains the manager's verbs.
  CLI::App* c = leaf(host, "register", "Register a compute host with the manager");
  c->add_option("NAME", a_.name, "the host's name")->required();
  c->add_option("--underlay-ip", a_.underlay_ip, "its tunnel IPv4 address")->required();
  c->add_option("--openflow", a_.openflow, "its bridge's OpenFlow target (tcp:IP:PORT)");
  c->add_option("--ovsdb", a_.ovsdb, "its OVSDB target (tcp:IP:PORT)");
  c->add_option("--direct-path-budget", a_.budget,
                "at most this many direct paths on it (default 0: the gateways' default)");
  c = leaf(host, "unregister", "Unregister a host (refused while endpoints live on it)");
  c->add_option("NAME", a_.name, "the host's name")->required();
  leaf(host, "list", "List the manager's hosts");
  host_show->add_option("NAME", a_.name, "a host registered with the manager (else use --db)");
  host_show->fallthrough();

  CLI::App* mgr = group("manager", "The managers serving the API (active and standby)");
  leaf(mgr, "status", "Each manager's role, the active one, and its database server");

  CLI::App* gw = group("gw", "Gateway nodes registered with the manager");
  c = leaf(gw, "register", "Register a gateway node");
  c->add_option("NAME", a_.name, "the gateway's name")->required();
  c->add_option("--underlay-ip", a_.underlay_ip, "its tunnel IPv4 address")->required();
  c->add_option("--grpc", a_.grpc, "its API: unix:/abs/path or HOST:PORT")->required();
  c->add_option("--capacity", a_.capacity, "VMs it can serve")->required();
  c = leaf(gw, "unregister", "Unregister a gateway (refused while in a cluster)");
  c->add_option("NAME", a_.name, "the gateway's name")->required();
  leaf(gw, "list", "List gateways");
  c = leaf(gw, "show", "Show a gateway");
  c->add_option("NAME", a_.name, "the gateway's name")->required();

  CLI::App* cl = group("cluster", "Gateway clusters");
  c = leaf(cl, "create", "Create a cluster of spare gateways");
  c->add_option("--id", a_.id, "its id, 1..65535 (default: the lowest free)");
  c->add_option("MEMBER", a_.members, "gateway names")->required();
  c = leaf(cl, "delete", "Delete a cluster (refused while it serves a VPC)");
  c->add_option("ID", a_.id, "the cluster's id")->required();
  leaf(cl, "list", "List clusters");
  c = leaf(cl, "add-member", "Add a spare gateway to a cluster (it serves once loaded)");
  c->add_option("ID", a_.id, "the cluster's id")->required();
  c->add_option("GATEWAY", a_.name, "the spare gateway")->required();
  c = leaf(cl, "remove-member", "Drain a member out of a cluster, then make it a spare");
  c->add_option("ID", a_.id, "the cluster's id")->required();
  c->add_option("GATEWAY", a_.name, "the member")->required();
  c = leaf(cl, "rebalance", "Apply cluster management's plan now, or print it with --dry-run");
  c->add_flag("--dry-run", a_.dry_run, "only print what would be done");
  c = leaf(cl, "show", "Show a cluster");
  c->add_option("ID", a_.id, "the cluster's id")->required();

  auto offload_options = [&](CLI::App* cmd) {
    cmd->add_option("--offload", a_.offload,
                    "when flows get direct paths: first-packet (default) or threshold")
        ->check(CLI::IsMember({"first-packet", "threshold"}));
    cmd->add_option("--offload-packets", a_.offload_packets,
                    "threshold: after more than this many packets toward one destination");
    cmd->add_option("--offload-bytes", a_.offload_bytes,
                    "threshold: after more than this many bytes");
    cmd->add_option("--offload-window-ms", a_.offload_window_ms,
                    "threshold: counted within this many ms (100..600000; default 1000)");
  };
  CLI::App* vpc = group("vpc", "VPCs");
  c = leaf(vpc, "create", "Create a VPC with its networks");
  c->add_option("ID", a_.vpc, "the VPC's id")->required();
  c->add_option("--vni", a_.vni, "its VNI, 1..16777215")->required();
  c->add_option("--router-mac", a_.router_mac, "the MAC answering its ARP requests")->required();
  c->add_option("--cluster", a_.cluster, "its cluster (default: the one with the most room)");
  c->add_option("--network", a_.networks, "a network: ID=IPV4-CIDR[,IPV6-CIDR] (repeatable)");
  offload_options(c);
  c = leaf(vpc, "update", "Change a VPC's offload policy");
  c->add_option("ID", a_.vpc, "the VPC's id")->required();
  offload_options(c);
  c = leaf(vpc, "delete", "Delete a VPC with its networks and endpoints");
  c->add_option("ID", a_.vpc, "the VPC's id")->required();
  c = leaf(vpc, "list", "List VPCs");
  c->add_option("--cluster", a_.cluster, "only this cluster's");
  c = leaf(vpc, "show", "Show a VPC");
  c->add_option("ID", a_.vpc, "the VPC's id")->required();
  c = leaf(vpc, "move",
           "Move a VPC to another cluster, make-before-break (its own cluster: cancel a move "
           "still loading)");
  c->add_option("ID", a_.vpc, "the VPC's id")->required();
  c->add_option("--to", a_.cluster, "the cluster to move it to")->required();
  c->add_flag("--wait", a_.wait, "return once the move is done (bounded by --timeout)");

  CLI::App* net = group("network", "Networks of a VPC");
  c = leaf(net, "create", "Create a network");
  c->add_option("VPC", a_.vpc, "its VPC")->required();
  c->add_option("ID", a_.network, "its id")->required();
  c->add_option("--ipv4", a_.ipv4, "its IPv4 prefix")->required();
  c->add_option("--ipv6", a_.ipv6, "its IPv6 prefix");
  c = leaf(net, "delete", "Delete a network with its endpoints");
  c->add_option("VPC", a_.vpc, "its VPC")->required();
  c->add_option("ID", a_.network, "its id")->required();
  c = leaf(net, "list", "List a VPC's networks");
  c->add_option("VPC", a_.vpc, "the VPC")->required();
  c = leaf(net, "show", "Show a network");
  c->add_option("VPC", a_.vpc, "its VPC")->required();
  c->add_option("ID", a_.network, "its id")->required();

  CLI::App* ep = group("endpoint", "Endpoints (VMs)");
  c = leaf(ep, "create", "Create an endpoint and wait until it is online");
  c->add_option("KEY", a_.key, "its unique key")->required();
  c->add_option("--vpc", a_.vpc, "its VPC")->required();
  c->add_option("--network", a_.network, "its network")->required();
  c->add_option("--ipv4", a_.ipv4, "its IPv4 address (default: allocated from the network)");
  c->add_option("--ipv6", a_.ipv6, "its IPv6 address");
  c->add_option("--mac", a_.mac, "its MAC address (default: 0a:58 and the IPv4 address)");
  c->add_option("--host", a_.host, "the host it lives on")->required();
  c->add_option("--iface-id", a_.iface_id, "external_ids:iface-id of its port (default: KEY)");
  c->add_option("--timeout-ms", a_.timeout_ms, "how long to wait for ONLINE (default 10000)");
  c = leaf(ep, "move", "Move an endpoint to another host and wait until it is online there");
  c->add_option("KEY", a_.key, "its key")->required();
  c->add_option("--host", a_.host, "the new host")->required();
  c->add_option("--timeout-ms", a_.timeout_ms, "how long to wait for ONLINE (default 10000)");
  c = leaf(ep, "update", "Change an endpoint's addresses, network or iface-id");
  c->add_option("KEY", a_.key, "its key")->required();
  c->add_option("--network", a_.network, "its new network");
  c->add_option("--ipv4", a_.ipv4, "its new IPv4 address");
  c->add_option("--ipv6", a_.ipv6, "its new IPv6 address ('' for none)");
  c->add_option("--mac", a_.mac, "its new MAC address");
  c->add_option("--iface-id", a_.iface_id, "its new iface-id ('' for the key)");
  c = leaf(ep, "delete", "Delete an endpoint");
  c->add_option("KEY", a_.key, "its key")->required();
  c = leaf(ep, "list", "List endpoints");
  c->add_option("--vpc", a_.vpc, "only this VPC's");
  c->add_option("--host", a_.host, "only this host's");
  c = leaf(ep, "show", "Show an endpoint");
  c->add_option("KEY", a_.key, "its key")->required();
  c = leaf(ep, "load", "Create many endpoints in one stream (FILE: {\"endpoints\": [...]})");
  c->add_option("FILE", a_.file, "JSON file, or - for standard input")->required();
  c = leaf(ep, "watch", "Print endpoint changes as they happen");
  c->add_option("--vpc", a_.vpc, "only this VPC's");
  c->add_option("--host", a_.host, "only this host's");
  c->add_flag("--initial", a_.initial, "first print every matching endpoint (EXISTING)");
  c->add_option("--count", a_.count, "exit after this many events");

  c = app.add_subcommand("trace",
                         "The path of a packet from an endpoint to an address of its VPC, "
                         "table by table on each node (like ovn-trace)");
  c->fallthrough();
  leaves_["trace"] = c;
  c->add_option("KEY", a_.key, "the source endpoint")->required();
  c->add_option("DST", a_.dst, "the destination IPv4 address")->required();
  c->add_option("--proto", a_.proto, "icmp (default), tcp or udp");
  c->add_option("--dport", a_.dport, "the destination port (tcp, udp)");
  c->add_flag("--live", a_.live,
              "also read the hosts' switches (OpenFlow tables, OVSDB ports) and walk their own "
              "tables");
  c->add_option("--appctl", a_.appctl,
                "NODE=PATH: with --live, also run NODE's hop through ovs-appctl -t PATH "
                "ofproto/trace and compare");
}

bool ManagerCli::parsed() const {
  for (const auto& [name, cmd] : leaves_) {
    if (cmd->parsed()) return true;
  }
  return host_show_->parsed() && !a_.name.empty();
}

int ManagerCli::Run(std::ostream& out, std::ostream& err) const {
  auto is = [&](const char* name) { return leaves_.at(name)->parsed(); };
  if (server_.empty()) {
    return InputError("the manager's address is needed: --server ADDR or SHORTCUT_MANAGER", err);
  }
  std::optional<tls::GrpcTls> tls;
  if (tls_ != nullptr) {
    auto loaded = LoadClientTls(*tls_);
    if (!loaded.ok()) return InputError(std::string(loaded.status().message()), err);
    tls = *std::move(loaded);
  }
  Client client(server_, timeout_s_, tls);
  if (client.size() == 0) {
    return InputError("--server: no address in '" + server_ + "'", err);
  }
  const bool j = json_ || (host_show_->parsed() && host_show_->count("--json") > 0);
  const Args& a = a_;
  auto said = [](std::string text) { return [text](const auto&) { return text + "\n"; }; };

  if (is("manager status")) return ManagerStatus(client, j, out, err);
  if (is("trace")) {
    TraceArgs t;
    t.key = a.key;
    t.dst = a.dst;
    t.proto = a.proto;
    t.dport = a.dport;
    t.live = a.live;
    t.json = j;
    t.timeout_s = timeout_s_;
    for (const std::string& kv : a.appctl) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
        return InputError("--appctl: '" + kv + "' is not NODE=PATH", err);
      }
      t.appctl[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return RunTrace(client, t, out, err);
  }

  // ---- Hosts. ----
  if (is("host register")) {
    v1::RegisterHostRequest r;
    r.mutable_host()->set_name(a.name);
    r.mutable_host()->set_underlay_ip(a.underlay_ip);
    r.mutable_host()->set_openflow(a.openflow);
    r.mutable_host()->set_ovsdb(a.ovsdb);
    r.mutable_host()->set_direct_path_budget(a.budget);
    return Unary(client, j, &Stub::RegisterHost, r, said("host " + a.name + " registered"), out,
                 err);
  }
  if (is("host unregister")) {
    v1::UnregisterHostRequest r;
    r.set_name(a.name);
    return Unary(client, j, &Stub::UnregisterHost, r, said("host " + a.name + " unregistered"), out,
                 err);
  }
  if (is("host list")) {
    return List(
        client, j, &Stub::ListHosts, v1::ListHostsRequest(),
        [](v1::ListHostsResponse& r) { return r.mutable_hosts(); }, kHostHeader, HostRow, out, err);
  }
  if (host_show_->parsed()) {
    v1::GetHostRequest r;
    r.set_name(a.name);
    return Unary(
        client, j, &Stub::GetHost, r,
        [](const v1::Host& h) { return Show(kHostHeader, HostRow(h)); }, out, err);
  }

  // ---- Gateways. ----
  if (is("gw register")) {
    v1::RegisterGatewayRequest r;
    v1::Gateway* g = r.mutable_gateway();
    g->set_name(a.name);
    g->set_underlay_ip(a.underlay_ip);
    g->set_grpc_address(a.grpc);
    g->set_capacity(a.capacity);
    return Unary(
        client, j, &Stub::RegisterGateway, r,
        [](const v1::Gateway& g) {
          return absl::StrCat("gateway ", g.name(), " registered: tunnel ofport ",
                              g.tunnel_ofport(), "\n");
        },
        out, err);
  }
  if (is("gw unregister")) {
    v1::UnregisterGatewayRequest r;
    r.set_name(a.name);
    return Unary(client, j, &Stub::UnregisterGateway, r,
                 said("gateway " + a.name + " unregistered"), out, err);
  }
  if (is("gw list")) {
    return List(
        client, j, &Stub::ListGateways, v1::ListGatewaysRequest(),
        [](v1::ListGatewaysResponse& r) { return r.mutable_gateways(); }, kGatewayHeader,
        GatewayRow, out, err);
  }
  if (is("gw show")) {
    v1::GetGatewayRequest r;
    r.set_name(a.name);
    return Unary(
        client, j, &Stub::GetGateway, r,
        [](const v1::Gateway& g) { return Show(kGatewayHeader, GatewayRow(g)); }, out, err);
  }

  // ---- Clusters. ----
  if (is("cluster create")) {
    v1::CreateClusterRequest r;
    r.mutable_cluster()->set_id(a.id);
    for (const std::string& m : a.members) r.mutable_cluster()->add_members(m);
    return Unary(
        client, j, &Stub::CreateCluster, r,
        [](const v1::Cluster& c) { return absl::StrCat("cluster ", c.id(), " created\n"); }, out,
        err);
  }
  if (is("cluster delete")) {
    v1::DeleteClusterRequest r;
    r.set_id(a.id);
    return Unary(client, j, &Stub::DeleteCluster, r,
                 said(absl::StrCat("cluster ", a.id, " deleted")), out, err);
  }
  if (is("cluster add-member") || is("cluster remove-member")) {
    bool add = is("cluster add-member");
    auto done = [add, name = a.name](const v1::Cluster& c) {
      return absl::StrCat("gateway ", name, add ? " added to" : " leaving", " cluster ", c.id(),
                          "\n");
    };
    if (add) {
      v1::AddClusterMemberRequest r;
      r.set_cluster_id(a.id);
      r.set_gateway(a.name);
      return Unary(client, j, &Stub::AddClusterMember, r, done, out, err);
    }
    v1::RemoveClusterMemberRequest r;
    r.set_cluster_id(a.id);
    r.set_gateway(a.name);
    return Unary(client, j, &Stub::RemoveClusterMember, r, done, out, err);
  }
  if (is("cluster rebalance")) {
    v1::RebalanceRequest r;
    r.set_dry_run(a.dry_run);
    return Unary(
        client, j, &Stub::Rebalance, r,
        [dry = a.dry_run](const v1::RebalanceResponse& p) {
          return absl::StrCat(dry ? "would do:\n" : "done:\n", p.text());
        },
        out, err);
  }
  if (is("cluster list")) {
    return List(
        client, j, &Stub::ListClusters, v1::ListClustersRequest(),
        [](v1::ListClustersResponse& r) { return r.mutable_clusters(); }, kClusterHeader,
        ClusterRow, out, err);
  }
  if (is("cluster show")) {
    v1::GetClusterRequest r;
    r.set_id(a.id);
    return Unary(
        client, j, &Stub::GetCluster, r,
        [](const v1::Cluster& c) { return Show(kClusterHeader, ClusterRow(c)); }, out, err);
  }

  // ---- VPCs. ----
  if (is("vpc create")) {
    v1::CreateVpcRequest r;
    v1::Vpc* v = r.mutable_vpc();
    v->set_id(a.vpc);
    v->set_vni(a.vni);
    v->set_router_mac(a.router_mac);
    v->set_cluster_id(a.cluster);
    if (a.offload != "first-packet" || a.offload_packets != 0 || a.offload_bytes != 0 ||
        a.offload_window_ms != 0) {
      *v->mutable_offload() =
          OffloadArg(a.offload, a.offload_packets, a.offload_bytes, a.offload_window_ms);
    }
    for (const std::string& n : a.networks) {
      absl::Status s = ParseNetworkArg(n, v->add_networks());
      if (!s.ok()) return InputError(std::string(s.message()), err);
    }
    return Unary(
        client, j, &Stub::CreateVpc, r,
        [](const v1::Vpc& v) {
          return absl::StrCat("vpc ", v.id(), " created on cluster ", v.cluster_id(), "\n");
        },
        out, err);
  }
  if (is("vpc update")) {
    v1::UpdateVpcRequest r;
    r.mutable_vpc()->set_id(a.vpc);
    *r.mutable_vpc()->mutable_offload() =
        OffloadArg(a.offload, a.offload_packets, a.offload_bytes, a.offload_window_ms);
    r.mutable_update_mask()->add_paths("offload");
    return Unary(
        client, j, &Stub::UpdateVpc, r,
        [](const v1::Vpc& v) {
          return absl::StrCat("vpc ", v.id(), ": offload ", OffloadText(v.offload()), "\n");
        },
        out, err);
  }
  if (is("vpc delete")) {
    v1::DeleteVpcRequest r;
    r.set_id(a.vpc);
    return Unary(
        client, j, &Stub::DeleteVpc, r,
        [&](const v1::DeleteVpcResponse& d) {
          return absl::StrCat("vpc ", a.vpc, " deleted with ", d.endpoints(), " endpoints\n");
        },
        out, err);
  }
  if (is("vpc list")) {
    v1::ListVpcsRequest r;
    r.set_cluster_id(a.cluster);
    return List(
        client, j, &Stub::ListVpcs, r, [](v1::ListVpcsResponse& r) { return r.mutable_vpcs(); },
        kVpcHeader, VpcRow, out, err);
  }
  if (is("vpc move")) {
    v1::MoveVpcRequest r;
    r.set_id(a.vpc);
    r.set_cluster_id(a.cluster);
    if (!a.wait) {
      return Unary(
          client, j, &Stub::MoveVpc, r,
          [](const v1::Vpc& v) {
            if (v.moving_to() == 0) {
              return absl::StrCat("vpc ", v.id(), " is on cluster ", v.cluster_id(), "\n");
            }
            return absl::StrCat("vpc ", v.id(), " moving from cluster ", v.cluster_id(), " ",
                                MoveText(v), "\n");
          },
          out, err);
    }
    return WaitMove(client, j, r, timeout_s_, out, err);
  }
  if (is("vpc show")) {
    v1::GetVpcRequest r;
    r.set_id(a.vpc);
    return Unary(
        client, j, &Stub::GetVpc, r,
        [](const v1::Vpc& v) {
          std::string text = Show(kVpcHeader, VpcRow(v));
          std::vector<std::vector<std::string>> rows = {kNetworkHeader};
          for (const auto& n : v.networks()) rows.push_back(NetworkRow(n));
          return text + "\n" + Table(rows);
        },
        out, err);
  }

  // ---- Networks. ----
  if (is("network create")) {
    v1::CreateNetworkRequest r;
    v1::Network* n = r.mutable_network();
    n->set_vpc(a.vpc);
    n->set_id(a.network);
    n->set_ipv4_cidr(a.ipv4);
    n->set_ipv6_cidr(a.ipv6);
    return Unary(client, j, &Stub::CreateNetwork, r,
                 said("network " + a.network + " of vpc " + a.vpc + " created"), out, err);
  }
  if (is("network delete")) {
    v1::DeleteNetworkRequest r;
    r.set_vpc(a.vpc);
    r.set_id(a.network);
    return Unary(
        client, j, &Stub::DeleteNetwork, r,
        [&](const v1::DeleteNetworkResponse& d) {
          return absl::StrCat("network ", a.network, " of vpc ", a.vpc, " deleted with ",
                              d.endpoints(), " endpoints\n");
        },
        out, err);
  }
  if (is("network list")) {
    v1::ListNetworksRequest r;
    r.set_vpc(a.vpc);
    return List(
        client, j, &Stub::ListNetworks, r,
        [](v1::ListNetworksResponse& r) { return r.mutable_networks(); }, kNetworkHeader,
        NetworkRow, out, err);
  }
  if (is("network show")) {
    v1::GetNetworkRequest r;
    r.set_vpc(a.vpc);
    r.set_id(a.network);
    return Unary(
        client, j, &Stub::GetNetwork, r,
        [](const v1::Network& n) { return Show(kNetworkHeader, NetworkRow(n)); }, out, err);
  }

  // ---- Endpoints. ----
  auto endpoint_line = [](const v1::Endpoint& e) {
    return absl::StrCat("endpoint ", e.key(), " on ", e.host(), ": ", StatusName(e.status()), "\n");
  };
  if (is("endpoint create")) {
    v1::CreateEndpointRequest r;
    v1::Endpoint* e = r.mutable_endpoint();
    e->set_key(a.key);
    e->set_vpc(a.vpc);
    e->set_network(a.network);
    e->set_ipv4(a.ipv4);
    e->set_ipv6(a.ipv6);
    e->set_mac(a.mac);
    e->set_host(a.host);
    e->set_iface_id(a.iface_id);
    r.set_online_timeout_ms(a.timeout_ms);
    // The addresses too: managerd may have allocated them.
    return Unary(
        client, j, &Stub::CreateEndpoint, r,
        [](const v1::Endpoint& e) {
          return absl::StrCat("endpoint ", e.key(), " ", e.ipv4(), " ", e.mac(), " on ", e.host(),
                              ": ", StatusName(e.status()), "\n");
        },
        out, err);
  }
  if (is("endpoint move")) {
    v1::UpdateEndpointRequest r;
    r.mutable_endpoint()->set_key(a.key);
    r.mutable_endpoint()->set_host(a.host);
    r.mutable_update_mask()->add_paths("host");
    r.set_online_timeout_ms(a.timeout_ms);
    return Unary(client, j, &Stub::UpdateEndpoint, r, endpoint_line, out, err);
  }
  if (is("endpoint update")) {
    CLI::App* cmd = leaves_.at("endpoint update");
    v1::UpdateEndpointRequest r;
    v1::Endpoint* e = r.mutable_endpoint();
    e->set_key(a.key);
    auto masked = [&](const char* option, const char* path, const std::string& value,
                      void (v1::Endpoint::*set)(const std::string&)) {
      if (cmd->count(option) == 0) return;
      (e->*set)(value);
      r.mutable_update_mask()->add_paths(path);
    };
    masked("--network", "network", a.network, &v1::Endpoint::set_network);
    masked("--ipv4", "ipv4", a.ipv4, &v1::Endpoint::set_ipv4);
    masked("--ipv6", "ipv6", a.ipv6, &v1::Endpoint::set_ipv6);
    masked("--mac", "mac", a.mac, &v1::Endpoint::set_mac);
    masked("--iface-id", "iface_id", a.iface_id, &v1::Endpoint::set_iface_id);
    if (r.update_mask().paths().empty()) {
      return InputError(
          "endpoint update: nothing to change (--network, --ipv4, --ipv6, --mac, "
          "--iface-id)",
          err);
    }
    return Unary(client, j, &Stub::UpdateEndpoint, r, endpoint_line, out, err);
  }
  if (is("endpoint delete")) {
    v1::DeleteEndpointRequest r;
    r.set_key(a.key);
    return Unary(client, j, &Stub::DeleteEndpoint, r, said("endpoint " + a.key + " deleted"), out,
                 err);
  }
  if (is("endpoint list")) {
    v1::ListEndpointsRequest r;
    r.set_vpc(a.vpc);
    r.set_host(a.host);
    return List(
        client, j, &Stub::ListEndpoints, r,
        [](v1::ListEndpointsResponse& r) { return r.mutable_endpoints(); }, kEndpointHeader,
        EndpointRow, out, err);
  }
  if (is("endpoint show")) {
    v1::GetEndpointRequest r;
    r.set_key(a.key);
    return Unary(
        client, j, &Stub::GetEndpoint, r,
        [](const v1::Endpoint& e) { return Show(kEndpointHeader, EndpointRow(e)); }, out, err);
  }
  if (is("endpoint load")) {
    std::string text;
    std::vector<v1::Endpoint> endpoints;
    if (absl::Status s = ReadInput(a.file, &text); !s.ok()) {
      return InputError(std::string(s.message()), err);
    }
    if (absl::Status s = ParseEndpointsFile(text, a.file, &endpoints); !s.ok()) {
      return InputError(std::string(s.message()), err);
    }
    return LoadEndpoints(client, j, endpoints, out, err);
  }
  if (is("endpoint watch")) {
    v1::WatchEndpointsRequest r;
    r.set_vpc(a.vpc);
    r.set_host(a.host);
    r.set_initial(a.initial);
    return Watch(client, j, r, a.count, out, err);
  }
  return InputError("no manager command", err);
}

}  // namespace shortcut::ctl
