#include "src/ctl/gateway_cmd.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "shortcut/gateway/v1/gateway.grpc.pb.h"
#include "src/model/offload_proto.h"

namespace shortcut::ctl {
namespace {

namespace v1 = gateway::v1;
namespace health = grpc::health::v1;

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

absl::Status FromJson(const std::string& json, google::protobuf::Message* message,
                      const std::string& where) {
  auto parsed = google::protobuf::util::JsonStringToMessage(json, message);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", std::string(parsed.message())));
}

absl::Status ParseDocument(const std::string& text, const std::string& name,
                           nlohmann::json* document) {
  try {
    *document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON: ", e.what()));
  }
  return absl::OkStatus();
}

// `array`'s elements as Endpoints (protobuf's JSON mapping).
absl::Status EndpointsFromJson(const nlohmann::json& array, const std::string& name,
                               std::vector<v1::Endpoint>* endpoints) {
  if (!array.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": endpoints must be an array"));
  }
  endpoints->reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    v1::Endpoint e;
    absl::Status s = FromJson(array[i].dump(), &e, absl::StrCat(name, ": endpoints[", i, "]"));
    if (!s.ok()) return s;
    endpoints->push_back(std::move(e));
  }
  return absl::OkStatus();
}

// An add-vpc file: the Vpc's fields and an "endpoints" array.
absl::Status ParseVpcFile(const std::string& text, const std::string& name, v1::Vpc* vpc,
                          std::vector<v1::Endpoint>* endpoints) {
  nlohmann::json document;
  if (absl::Status s = ParseDocument(text, name, &document); !s.ok()) return s;
  if (!document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": must be a JSON object (a Vpc)"));
  }
  if (auto it = document.find("endpoints"); it != document.end()) {
    if (absl::Status s = EndpointsFromJson(*it, name, endpoints); !s.ok()) return s;
    document.erase(it);
  }
  return FromJson(document.dump(), vpc, name);
}

// An add-endpoints file: {"endpoints": [...]}.
absl::Status ParseEndpointsFile(const std::string& text, const std::string& name,
                                std::vector<v1::Endpoint>* endpoints) {
  nlohmann::json document;
  if (absl::Status s = ParseDocument(text, name, &document); !s.ok()) return s;
  auto it = document.is_object() ? document.find("endpoints") : document.end();
  if (it == document.end() || !it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": must be a JSON object with an \"endpoints\" array"));
  }
  return EndpointsFromJson(*it, name, endpoints);
}

// `endpoints` cut into stream messages of kAddVpcBatch.
std::vector<v1::EndpointBatch> Batches(const std::vector<v1::Endpoint>& endpoints) {
  std::vector<v1::EndpointBatch> batches;
  for (size_t i = 0; i < endpoints.size(); i += kAddVpcBatch) {
    v1::EndpointBatch& batch = batches.emplace_back();
    size_t end = std::min(endpoints.size(), i + kAddVpcBatch);
    for (size_t j = i; j < end; ++j) *batch.add_endpoints() = endpoints[j];
  }
  // The server applies a stream only once it has seen its last batch.
  if (batches.empty()) batches.emplace_back();
  batches.back().set_last(true);
  return batches;
}

// ---- Output. ----

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message we built cannot fail.
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
std::string YesNo(bool b) { return b ? "yes" : "no"; }

// ---- Calls. ----

class Client {
 public:
  explicit Client(const GatewayCtlOptions& options) : options_(options) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // Listings of large VPCs.
    channel_ = tls::MakeChannel(options.server, options.tls, args);
    stub_ = v1::Gateway::NewStub(channel_);
  }

  void Prepare(grpc::ClientContext* context) const {
    auto timeout = std::chrono::duration<double>(options_.timeout_s);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  }
  v1::Gateway::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

 private:
  GatewayCtlOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

int RpcError(const grpc::Status& status, std::ostream& err) {
  err << "shortcutctl: "
      << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
      << status.error_message() << "\n";
  return 1;
}

int InputError(const absl::Status& status, std::ostream& err) {
  err << "shortcutctl: " << status.message() << "\n";
  return 2;
}

// Calls a unary RPC and prints its response: `human` formats it, --json
// prints it as JSON.
template <typename Request, typename Response, typename Method, typename Human>
int Unary(Client& client, const GatewayCtlOptions& options, Method method, const Request& request,
          Human human, std::ostream& out, std::ostream& err) {
  grpc::ClientContext context;
  client.Prepare(&context);
  Response response;
  grpc::Status status = (client.stub().*method)(&context, request, &response);
  if (!status.ok()) return RpcError(status, err);
  if (options.json) {
    out << ToJson(response) << "\n";
  } else {
    out << human(response);
  }
  return 0;
}

std::string StatsText(const v1::GetStatsResponse& stats) {
  // Every counter the message has, in its order, by reflection: a counter
  // added to the API shows without a change here.
  std::vector<std::vector<std::string>> rows;
  const auto* descriptor = stats.GetDescriptor();
  const auto* reflection = stats.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    std::string value;
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        value = std::to_string(reflection->GetUInt64(stats, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        value = std::to_string(reflection->GetInt64(stats, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        value = std::to_string(reflection->GetUInt32(stats, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        value = YesNo(reflection->GetBool(stats, field));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        value = OrDash(reflection->GetString(stats, field));
        break;
      default:
        value = "?";
    }
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(stats, field);
      value = n == 0 ? "0" : absl::StrCat(n, " (below)");
    }
    rows.push_back({field->name(), value});
  }
  std::string text = Table(rows);
  if (stats.host_budgets_size() > 0) {
    std::vector<std::vector<std::string>> hosts = {
        {"HOST", "BUDGET", "SHARE", "DIRECT-PATHS", "OTHERS", "STALE", "EVICTED", "REFUSED"}};
    for (const auto& h : stats.host_budgets()) {
      hosts.push_back({h.host(), std::to_string(h.budget()), std::to_string(h.limit()),
                       std::to_string(h.direct_paths()), std::to_string(h.others()),
                       std::to_string(h.stale()), std::to_string(h.evicted()),
                       std::to_string(h.refused())});
    }
    absl::StrAppend(&text, "\n", Table(hosts));
  }
  if (stats.vpc_offload_size() > 0) {
    std::vector<std::vector<std::string>> vpcs = {
        {"VPC", "VNI", "OFFLOAD", "DIRECT-SETUPS", "GATEWAY-FLOWS", "THRESHOLD-OFFLOADS"}};
    for (const auto& v : stats.vpc_offload()) {
      vpcs.push_back({v.vpc(), std::to_string(v.vni()),
                      model::FormatOffload(model::OffloadOfProto(v.offload())),
                      std::to_string(v.direct_setups()), std::to_string(v.gateway_flows()),
                      std::to_string(v.threshold_offloads())});
    }
    absl::StrAppend(&text, "\n", Table(vpcs));
  }
  return text;
}

std::string EndpointsText(const v1::ListEndpointsResponse& list) {
  std::vector<std::vector<std::string>> rows = {
      {"KEY", "VPC", "NETWORK", "IPV4", "IPV6", "MAC", "HOST", "IFACE-ID", "OFPORT", "ONLINE"}};
  for (const auto& entry : list.endpoints()) {
    const v1::Endpoint& e = entry.endpoint();
    rows.push_back({e.key(), e.vpc(), e.network(), e.ipv4(), OrDash(e.ipv6()), e.mac(), e.host(),
                    OrDash(e.iface_id()), entry.ofport() < 0 ? "-" : std::to_string(entry.ofport()),
                    YesNo(entry.online())});
  }
  return Table(rows);
}

std::string PathsText(const v1::ListPathsResponse& list) {
  std::vector<std::vector<std::string>> rows = {
      {"FROM-HOST", "TO-HOST", "VNI", "SRC", "DST", "SETUP-US", "RESULT"}};
  for (const auto& p : list.paths()) {
    rows.push_back({p.src_host(), p.dst_host(), std::to_string(p.vni()), p.src_ip(), p.dst_ip(),
                    std::to_string(p.setup_us()), p.error().empty() ? "installed" : p.error()});
  }
  return Table(rows);
}

std::string HostsText(const v1::ListHostsResponse& list) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "UNDERLAY", "OPENFLOW", "OVSDB", "CONNECTED", "DESIGNATED", "FLOWS", "TUNNELS-UP"}};
  for (const auto& entry : list.hosts()) {
    const v1::Host& h = entry.host();
    rows.push_back(
        {h.name(), h.underlay_ip(), OrDash(h.openflow()), OrDash(h.ovsdb()),
         YesNo(entry.connected()), YesNo(entry.designated()), std::to_string(entry.flows()),
         entry.ovsdb_connected()
             ? absl::StrCat(entry.gateway_tunnels_forwarding(), "/", entry.gateway_tunnels())
             : "-"});
  }
  return Table(rows);
}

int AddVpc(Client& client, const GatewayCtlOptions& options, const v1::Vpc& vpc,
           const std::vector<v1::Endpoint>& endpoints, std::ostream& out, std::ostream& err) {
  grpc::ClientContext context;
  client.Prepare(&context);
  v1::AddVpcResponse response;
  auto writer = client.stub().AddVpc(&context, &response);
  v1::AddVpcRequest first;
  *first.mutable_vpc() = vpc;
  bool open = writer->Write(first);
  for (v1::EndpointBatch& batch : Batches(endpoints)) {
    // A failed write means the server ended the call (a refused item):
    // Finish() tells why.
    if (!open) break;
    v1::AddVpcRequest request;
    *request.mutable_endpoints() = std::move(batch);
    open = writer->Write(request);
  }
  if (open) writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return RpcError(status, err);
  if (options.json) {
    out << ToJson(response) << "\n";
  } else {
    out << "vpc " << vpc.id() << " added: " << response.endpoints() << " endpoints\n";
  }
  return 0;
}

int AddEndpoints(Client& client, const GatewayCtlOptions& options,
                 const std::vector<v1::Endpoint>& endpoints, std::ostream& out, std::ostream& err) {
  grpc::ClientContext context;
  client.Prepare(&context);
  v1::AddEndpointsResponse response;
  auto writer = client.stub().AddEndpoints(&context, &response);
  bool open = true;
  for (const v1::EndpointBatch& batch : Batches(endpoints)) {
    if (!open) break;
    open = writer->Write(batch);
  }
  if (open) writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return RpcError(status, err);
  if (options.json) {
    out << ToJson(response) << "\n";
  } else {
    out << response.endpoints() << " endpoints added\n";
  }
  return 0;
}

int Health(Client& client, const GatewayCtlOptions& options, const std::string& service,
           std::ostream& out, std::ostream& err) {
  auto stub = health::Health::NewStub(client.channel());
  grpc::ClientContext context;
  client.Prepare(&context);
  health::HealthCheckRequest request;
  request.set_service(service);
  health::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return RpcError(status, err);
  if (options.json) {
    out << ToJson(response) << "\n";
  } else {
    out << health::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  }
  return response.status() == health::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace

GatewayCli::GatewayCli(CLI::App& app, const ClientTlsOptions* tls) : tls_(tls) {
  gateway_ = app.add_subcommand("gateway", "Call a gateway's API (gRPC)");
  gateway_->require_subcommand(1);
  // The options may also follow the command: `gateway stats --json`.
  gateway_->fallthrough();
  gateway_->add_option("--server", options_.server, "gateway address: unix:/abs/path or HOST:PORT")
      ->required();
  gateway_->add_option("--timeout", options_.timeout_s, "seconds to wait for each call (30)");
  gateway_->add_flag("--json", options_.json, "print responses as JSON");

  set_cluster_ = gateway_->add_subcommand(
      "set-cluster", "Set the cluster: members, hosts (FILE: SetClusterRequest JSON)");
  set_cluster_->add_option("FILE", file_, "JSON file, or - for standard input")->required();

  update_endpoint_ = gateway_->add_subcommand("update-endpoint", "Create or update an endpoint");
  update_endpoint_->add_option("--key", endpoint_.key, "the endpoint's unique key")->required();
  update_endpoint_->add_option("--vpc", endpoint_.vpc, "its VPC's id")->required();
  update_endpoint_->add_option("--network", endpoint_.network, "its network's id")->required();
  update_endpoint_->add_option("--ipv4", endpoint_.ipv4, "its IPv4 address")->required();
  update_endpoint_->add_option("--ipv6", endpoint_.ipv6, "its IPv6 address");
  update_endpoint_->add_option("--mac", endpoint_.mac, "its MAC address")->required();
  update_endpoint_->add_option("--host", endpoint_.host, "the host it lives on")->required();
  update_endpoint_->add_option("--iface-id", endpoint_.iface_id,
                               "external_ids:iface-id of its port on the host");

  delete_endpoint_ = gateway_->add_subcommand("delete-endpoint", "Delete an endpoint");
  delete_endpoint_->add_option("KEY", key_, "the endpoint's key")->required();

  add_vpc_ = gateway_->add_subcommand(
      "add-vpc", "Add a VPC with its networks and endpoints, all or nothing (FILE: JSON)");
  add_vpc_->add_option("FILE", file_, "JSON file, or - for standard input")->required();

  add_endpoints_ = gateway_->add_subcommand(
      "add-endpoints",
      "Add endpoints to existing VPCs, all or nothing (FILE: {\"endpoints\": [...]})");
  add_endpoints_->add_option("FILE", file_, "JSON file, or - for standard input")->required();
  paths_ = gateway_->add_subcommand(
      "paths", "List the forwarding module's recent direct-path setups (oldest first)");
  complete_load_ = gateway_->add_subcommand(
      "complete-load",
      "Say the gateway holds everything now: its hosts are brought to exactly its state "
      "(a gateway started without a cluster keeps their other rules until then)");
  set_offload_ = gateway_->add_subcommand(
      "set-offload", "Set when a VPC's flows get their direct paths (its offload policy)");
  set_offload_->add_option("VPC", vpc_, "the VPC's id")->required();
  set_offload_->add_option("--mode", offload_mode_, "first-packet (default) or threshold")
      ->check(CLI::IsMember({"first-packet", "threshold"}));
  set_offload_->add_option("--packets", offload_packets_,
                           "threshold: offload a flow after more than this many packets");
  set_offload_->add_option("--bytes", offload_bytes_,
                           "threshold: offload a flow after more than this many bytes");
  set_offload_->add_option("--window-ms", offload_window_ms_,
                           "threshold: counted within this many ms (100..600000; default 1000)");
  delete_vpc_ = gateway_->add_subcommand("delete-vpc", "Delete a VPC and its endpoints");
  delete_vpc_->add_option("ID", vpc_, "the VPC's id")->required();

  delete_network_ =
      gateway_->add_subcommand("delete-network", "Delete a network of a VPC and its endpoints");
  delete_network_->add_option("VPC", vpc_, "the VPC's id")->required();
  delete_network_->add_option("NETWORK", network_, "the network's id")->required();

  stats_ = gateway_->add_subcommand("stats", "Print the gateway's counters");
  endpoints_ = gateway_->add_subcommand("endpoints", "List endpoints");
  endpoints_->add_option("--vpc", vpc_, "only this VPC's");
  endpoints_->add_option("--host", host_, "only this host's");
  hosts_ = gateway_->add_subcommand("hosts", "List the cluster's hosts");
  health_ = gateway_->add_subcommand("health", "Print the gateway's health (SERVING: exit 0)");
  health_->add_option("--service", service_, "a service name (default: the server as a whole)");
}

int GatewayCli::Run(std::ostream& out, std::ostream& err) const {
  GatewayCtlOptions with_tls = options_;
  if (tls_ != nullptr) {
    auto loaded = LoadClientTls(*tls_);
    if (!loaded.ok()) {
      err << "shortcutctl: " << loaded.status().message() << "\n";
      return 2;
    }
    with_tls.tls = *std::move(loaded);
  }
  Client client(with_tls);
  const GatewayCtlOptions& o = options_;
  if (set_cluster_->parsed()) {
    std::string text;
    v1::SetClusterRequest request;
    if (absl::Status s = ReadInput(file_, &text); !s.ok()) return InputError(s, err);
    if (absl::Status s = FromJson(text, &request, file_); !s.ok()) return InputError(s, err);
    return Unary<v1::SetClusterRequest, v1::SetClusterResponse>(
        client, o, &v1::Gateway::Stub::SetCluster, request,
        [&](const v1::SetClusterResponse&) {
          int standby = 0;
          for (const v1::GatewayMember& m : request.members()) standby += m.standby();
          return absl::StrCat("cluster ", request.cluster_id(), " set: ", request.members_size(),
                              " members",
                              standby == 0 ? "" : absl::StrCat(" (", standby, " standby)"), ", ",
                              request.hosts_size(), " hosts\n");
        },
        out, err);
  }
  if (update_endpoint_->parsed()) {
    v1::UpdateEndpointRequest request;
    v1::Endpoint* e = request.mutable_endpoint();
    e->set_key(endpoint_.key);
    e->set_vpc(endpoint_.vpc);
    e->set_network(endpoint_.network);
    e->set_ipv4(endpoint_.ipv4);
    e->set_ipv6(endpoint_.ipv6);
    e->set_mac(endpoint_.mac);
    e->set_host(endpoint_.host);
    e->set_iface_id(endpoint_.iface_id);
    return Unary<v1::UpdateEndpointRequest, v1::UpdateEndpointResponse>(
        client, o, &v1::Gateway::Stub::UpdateEndpoint, request,
        [&](const v1::UpdateEndpointResponse& r) {
          return absl::StrCat("endpoint ", endpoint_.key, ": ",
                              v1::UpdateEndpointResponse::Change_Name(r.change()), ", ",
                              r.online() ? "online" : "pending", "\n");
        },
        out, err);
  }
  if (delete_endpoint_->parsed()) {
    v1::DeleteEndpointRequest request;
    request.set_key(key_);
    return Unary<v1::DeleteEndpointRequest, v1::DeleteEndpointResponse>(
        client, o, &v1::Gateway::Stub::DeleteEndpoint, request,
        [&](const v1::DeleteEndpointResponse&) {
          return absl::StrCat("endpoint ", key_, " deleted\n");
        },
        out, err);
  }
  if (add_vpc_->parsed()) {
    std::string text;
    v1::Vpc vpc;
    std::vector<v1::Endpoint> endpoints;
    if (absl::Status s = ReadInput(file_, &text); !s.ok()) return InputError(s, err);
    if (absl::Status s = ParseVpcFile(text, file_, &vpc, &endpoints); !s.ok()) {
      return InputError(s, err);
    }
    return AddVpc(client, o, vpc, endpoints, out, err);
  }
  if (add_endpoints_->parsed()) {
    std::string text;
    std::vector<v1::Endpoint> endpoints;
    if (absl::Status s = ReadInput(file_, &text); !s.ok()) return InputError(s, err);
    if (absl::Status s = ParseEndpointsFile(text, file_, &endpoints); !s.ok()) {
      return InputError(s, err);
    }
    return AddEndpoints(client, o, endpoints, out, err);
  }
  if (paths_->parsed()) {
    v1::ListPathsRequest request;
    return Unary<v1::ListPathsRequest, v1::ListPathsResponse>(
        client, o, &v1::Gateway::Stub::ListPaths, request, PathsText, out, err);
  }
  if (set_offload_->parsed()) {
    v1::SetVpcOffloadRequest request;
    request.set_vpc(vpc_);
    v1::OffloadPolicy* p = request.mutable_offload();
    p->set_mode(offload_mode_ == "threshold" ? v1::OFFLOAD_MODE_THRESHOLD
                                             : v1::OFFLOAD_MODE_FIRST_PACKET);
    p->set_packets(offload_packets_);
    p->set_bytes(offload_bytes_);
    p->set_window_ms(offload_window_ms_);
    return Unary<v1::SetVpcOffloadRequest, v1::SetVpcOffloadResponse>(
        client, o, &v1::Gateway::Stub::SetVpcOffload, request,
        [vpc = vpc_](const v1::SetVpcOffloadResponse&) {
          return "vpc " + vpc + ": offload policy set\n";
        },
        out, err);
  }
  if (complete_load_->parsed()) {
    return Unary<v1::CompleteLoadRequest, v1::CompleteLoadResponse>(
        client, o, &v1::Gateway::Stub::CompleteLoad, v1::CompleteLoadRequest(),
        [](const v1::CompleteLoadResponse&) { return std::string("load complete\n"); }, out, err);
  }
  if (delete_vpc_->parsed()) {
    v1::DeleteVpcRequest request;
    request.set_vpc(vpc_);
    return Unary<v1::DeleteVpcRequest, v1::DeleteVpcResponse>(
        client, o, &v1::Gateway::Stub::DeleteVpc, request,
        [&](const v1::DeleteVpcResponse& r) {
          return absl::StrCat("vpc ", vpc_, " deleted: ", r.endpoints(), " endpoints\n");
        },
        out, err);
  }
  if (delete_network_->parsed()) {
    v1::DeleteNetworkRequest request;
    request.set_vpc(vpc_);
    request.set_network(network_);
    return Unary<v1::DeleteNetworkRequest, v1::DeleteNetworkResponse>(
        client, o, &v1::Gateway::Stub::DeleteNetwork, request,
        [&](const v1::DeleteNetworkResponse& r) {
          return absl::StrCat("network ", network_, " of vpc ", vpc_, " deleted: ", r.endpoints(),
                              " endpoints\n");
        },
        out, err);
  }
  if (stats_->parsed()) {
    v1::GetStatsRequest request;
    return Unary<v1::GetStatsRequest, v1::GetStatsResponse>(client, o, &v1::Gateway::Stub::GetStats,
                                                            request, StatsText, out, err);
  }
  if (endpoints_->parsed()) {
    v1::ListEndpointsRequest request;
    request.set_vpc(vpc_);
    request.set_host(host_);
    return Unary<v1::ListEndpointsRequest, v1::ListEndpointsResponse>(
        client, o, &v1::Gateway::Stub::ListEndpoints, request, EndpointsText, out, err);
  }
  if (hosts_->parsed()) {
    v1::ListHostsRequest request;
    return Unary<v1::ListHostsRequest, v1::ListHostsResponse>(
        client, o, &v1::Gateway::Stub::ListHosts, request, HostsText, out, err);
  }
  if (health_->parsed()) return Health(client, o, service_, out, err);
  err << "shortcutctl: gateway: no command\n";
  return 2;
}

}  // namespace shortcut::ctl
