#include "src/manager/nb_txn.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shortcut::manager {
namespace {

using Op = NbTxn::Op;
using ovsdb::Json;

// A uuid that names no row: a reference to a missing row is written as it,
// so the database refuses it with its own referential integrity error.
constexpr char kMissingRow[] = "00000000-0000-0000-0000-000000000000";

std::shared_ptr<const Op> MakeOp(Op::Kind kind, NbTable table, NbRow row = {}, std::string key = "",
                                 std::string key2 = "") {
  auto op = std::make_shared<Op>();
  op->kind = kind;
  op->table = table;
  op->row = std::move(row);
  op->key = std::move(key);
  op->key2 = std::move(key2);
  return op;
}

const char* TableName(NbTable t) {
  switch (t) {
    case NbTable::kHost:
      return "Host";
    case NbTable::kGateway:
      return "Gateway";
    case NbTable::kCluster:
      return "Cluster";
    case NbTable::kVpc:
      return "Vpc";
    case NbTable::kNetwork:
      return "Network";
    case NbTable::kEndpoint:
      return "Endpoint";
    case NbTable::kGlobal:
      break;
  }
  return "NB_Global";
}

// The row's key as DescribeOp and the NotFound checks name it.
std::string OpKey(const Op& op) {
  if (op.kind == Op::Kind::kDelete || op.kind == Op::Kind::kSetStatus) {
    return op.table == NbTable::kNetwork ? absl::StrCat(op.key, "/", op.key2) : op.key;
  }
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HostRow>) return r.host.name;
        if constexpr (std::is_same_v<T, GatewayRow>) return r.name;
        if constexpr (std::is_same_v<T, ClusterRow>) return std::to_string(r.id);
        if constexpr (std::is_same_v<T, VpcRow>) return r.vpc.id;
        if constexpr (std::is_same_v<T, NetworkRow>) return absl::StrCat(r.vpc, "/", r.network.id);
        if constexpr (std::is_same_v<T, EndpointRow>) return r.endpoint.key;
        return "";
      },
      op.row);
}

// Builds the request, remembering the rows it inserts by key (named-uuids).
class Builder {
 public:
  explicit Builder(const NbReplica& replica) : replica_(replica) {}

  absl::Status Add(const Op& op) {
    const std::string name = absl::StrCat("r", ops_);
    switch (op.kind) {
      case Op::Kind::kInsert:
        return Insert(op, name);
      case Op::Kind::kUpdate:
        return Update(op);
      case Op::Kind::kDelete:
        return Delete(op);
      case Op::Kind::kSetStatus: {
        if (!EndpointExists(op.key)) return NotFound(op);
        Begin("update", "Endpoint");
        EndpointWhere(op.key);
        j_.Key("row").Raw("{\"status\":").Str(EndpointStatusName(op.status)).Raw("}");
        return End();
      }
      case Op::Kind::kGatewayObserved:
      case Op::Kind::kGatewayMembership: {
        const auto& r = std::get<GatewayRow>(op.row);
        if (!replica_.state().gateways.contains(r.name)) return NotFound(op);
        RefText cluster;
        if (op.kind == Op::Kind::kGatewayMembership) {
          absl::StatusOr<RefText> c = GatewayCluster(op, r);
          if (!c.ok()) return c.status();
          cluster = *c;
        }
        Begin("update", "Gateway");
        j_.Key("where").Raw("[[\"name\",\"==\",").Str(r.name).Raw("]]").Key("row");
        if (op.kind == Op::Kind::kGatewayObserved) {
          WriteGatewayObserved(j_, r);
        } else {
          WriteGatewayMembership(j_, r, cluster);
        }
        return End();
      }
      case Op::Kind::kSettings: {
        const Settings& s = std::get<Settings>(op.row);
        Begin("update", "NB_Global");
        j_.Key("where").Raw("[]").Key("row");
        WriteSettings(j_, s);
        return End();
      }
      case Op::Kind::kActiveManager: {
        Begin("update", "NB_Global");
        j_.Key("where").Raw("[]").Key("row").Raw("{");
        j_.Key("active_manager", true).Str(op.manager.name);
        j_.Key("active_manager_address").Str(op.manager.address);
        j_.Key("active_since_ms").Int(op.manager.since_ms);
        j_.Raw("}");
        return End();
      }
    }
    return absl::InternalError("unknown operation");
  }

  void Prologue(bool insert_global, const std::string& lock) {
    j_.Raw("[").Str(kDbName);
    if (!lock.empty()) {
      j_.Raw(",{").Key("op", true).Str("assert").Key("lock").Str(lock);
      (void)End();
    }
    if (insert_global) {
      Begin("insert", "NB_Global");
      j_.Key("row");
      WriteSettings(j_, Settings{});
      j_.out().pop_back();  // Add seqno to the settings object.
      j_.Key("seqno").Int(0).Raw("}");
      (void)End();
    }
  }

  void Epilogue() {
    Begin("mutate", "NB_Global");
    j_.Key("where").Raw("[]").Key("mutations").Raw("[[\"seqno\",\"+=\",1]]");
    (void)End();
    Begin("select", "NB_Global");
    j_.Key("where").Raw("[]").Key("columns").Raw("[\"seqno\"]");
    (void)End();
    j_.Raw("]");
  }

  size_t ops() const { return ops_; }
  std::string Take() { return std::move(j_.out()); }

 private:
  void Begin(const char* op, const char* table) {
    j_.Raw(",{").Key("op", true).Str(op).Key("table").Str(table);
  }
  absl::Status End() {
    j_.Raw("}");
    ++ops_;
    return absl::OkStatus();
  }
  void Named(const std::string& name) { j_.Key("uuid-name").Str(name); }

  static absl::Status NotFound(const Op& op) {
    return absl::NotFoundError(
        absl::StrCat(DescribeOp(op), ": no ", TableName(op.table), " ", OpKey(op)));
  }

  static RefText Ref(const std::string* named, const std::optional<std::string>& uuid) {
    if (named != nullptr) return RefText{absl::StrCat("[\"named-uuid\",\"", *named, "\"]")};
    return RefText{absl::StrCat("[\"uuid\",\"", uuid ? *uuid : kMissingRow, "\"]")};
  }
  template <typename Map, typename K>
  static const std::string* Find(const Map& m, const K& k) {
    auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
  }
  RefText HostRef(const std::string& name) const {
    return Ref(Find(hosts_, name), replica_.HostUuid(name));
  }
  RefText ClusterRef(uint32_t id) const {
    return Ref(Find(clusters_, id), replica_.ClusterUuid(id));
  }
  RefText VpcRef(const std::string& id) const { return Ref(Find(vpcs_, id), replica_.VpcUuid(id)); }
  RefText NetworkRef(const NetworkKey& key) const {
    return Ref(Find(networks_, key), replica_.NetworkUuid(key));
  }
  // One endpoint row: by its uuid when the replica knows it (ovsdb-server
  // looks a `_uuid` up in its index, and scans the whole table for any
  // other column), with the key as well, so that a row replaced meanwhile
  // under the same key is not touched, as by a where on the key alone.
  void EndpointWhere(const std::string& key) {
    j_.Key("where").Raw("[");
    if (std::optional<std::string> uuid = replica_.EndpointUuid(key)) {
      j_.Raw("[\"_uuid\",\"==\",[\"uuid\",\"").Raw(*uuid).Raw("\"]],");
    }
    j_.Raw("[\"key\",\"==\",").Str(key).Raw("]]");
  }

  bool EndpointExists(const std::string& key) const {
    return endpoints_.contains(key) || replica_.state().endpoints.contains(key);
  }

  absl::Status Insert(const Op& op, const std::string& name) {
    Begin("insert", TableName(op.table));
    j_.Key("row");
    switch (op.table) {
      case NbTable::kHost: {
        const auto& r = std::get<HostRow>(op.row);
        WriteHost(j_, r);
        hosts_[r.host.name] = name;
        break;
      }
      case NbTable::kGateway: {
        const auto& r = std::get<GatewayRow>(op.row);
        absl::StatusOr<RefText> cluster = GatewayCluster(op, r);
        if (!cluster.ok()) return cluster.status();
        WriteGateway(j_, r, *cluster);
        break;
      }
      case NbTable::kCluster: {
        const auto& r = std::get<ClusterRow>(op.row);
        WriteCluster(j_, r);
        clusters_[r.id] = name;
        break;
      }
      case NbTable::kVpc: {
        const auto& r = std::get<VpcRow>(op.row);
        WriteVpc(j_, r, ClusterRef(r.cluster_id), MovingToRef(r));
        vpcs_[r.vpc.id] = name;
        break;
      }
      case NbTable::kNetwork: {
        const auto& r = std::get<NetworkRow>(op.row);
        WriteNetwork(j_, r, VpcRef(r.vpc));
        networks_[NetworkKey(r.vpc, r.network.id)] = name;
        break;
      }
      case NbTable::kEndpoint: {
        const auto& r = std::get<EndpointRow>(op.row);
        const model::Endpoint& e = r.endpoint;
        WriteEndpoint(j_, r, VpcRef(e.vpc), NetworkRef(NetworkKey(e.vpc, e.network)),
                      HostRef(e.host));
        endpoints_.insert(e.key);
        break;
      }
      case NbTable::kGlobal:
        return absl::InternalError("insert NB_Global");
    }
    Named(name);
    return End();
  }

  // A strong reference: a cluster that does not exist is refused by the
  // database itself.
  RefText MovingToRef(const VpcRow& r) const {
    return r.moving_to == 0 ? RefText{"[\"set\",[]]"} : ClusterRef(r.moving_to);
  }

  absl::StatusOr<RefText> GatewayCluster(const Op& op, const GatewayRow& r) const {
    if (r.cluster_id == 0) return RefText{"[\"set\",[]]"};
    if (!clusters_.contains(r.cluster_id) && !replica_.ClusterUuid(r.cluster_id)) {
      return absl::FailedPreconditionError(
          absl::StrCat(DescribeOp(op), ": cluster ", r.cluster_id, " does not exist"));
    }
    return ClusterRef(r.cluster_id);
  }

  absl::Status Update(const Op& op) {
    const NbState& s = replica_.state();
    switch (op.table) {
      case NbTable::kHost: {
        const auto& r = std::get<HostRow>(op.row);
        if (!hosts_.contains(r.host.name) && !s.hosts.contains(r.host.name)) return NotFound(op);
        Begin("update", "Host");
        j_.Key("where").Raw("[[\"name\",\"==\",").Str(r.host.name).Raw("]]").Key("row");
        WriteHost(j_, r);
        return End();
      }
      case NbTable::kGateway: {
        const auto& r = std::get<GatewayRow>(op.row);
        if (!s.gateways.contains(r.name)) return NotFound(op);
        absl::StatusOr<RefText> cluster = GatewayCluster(op, r);
        if (!cluster.ok()) return cluster.status();
        Begin("update", "Gateway");
        j_.Key("where").Raw("[[\"name\",\"==\",").Str(r.name).Raw("]]").Key("row");
        WriteGateway(j_, r, *cluster);
        return End();
      }
      case NbTable::kVpc: {
        const auto& r = std::get<VpcRow>(op.row);
        if (!vpcs_.contains(r.vpc.id) && !s.vpcs.contains(r.vpc.id)) return NotFound(op);
        Begin("update", "Vpc");
        j_.Key("where").Raw("[[\"vpc_id\",\"==\",").Str(r.vpc.id).Raw("]]").Key("row");
        WriteVpc(j_, r, ClusterRef(r.cluster_id), MovingToRef(r));
        return End();
      }
      case NbTable::kEndpoint: {
        const auto& r = std::get<EndpointRow>(op.row);
        const model::Endpoint& e = r.endpoint;
        if (!EndpointExists(e.key)) return NotFound(op);
        Begin("update", "Endpoint");
        EndpointWhere(e.key);
        j_.Key("row");
        WriteEndpoint(j_, r, VpcRef(e.vpc), NetworkRef(NetworkKey(e.vpc, e.network)),
                      HostRef(e.host));
        return End();
      }
      default:
        return absl::InternalError(absl::StrCat("update ", TableName(op.table)));
    }
  }

  absl::Status Delete(const Op& op) {
    const NbState& s = replica_.state();
    switch (op.table) {
      case NbTable::kHost:
        if (!hosts_.contains(op.key) && !s.hosts.contains(op.key)) return NotFound(op);
        Begin("delete", "Host");
        j_.Key("where").Raw("[[\"name\",\"==\",").Str(op.key).Raw("]]");
        return End();
      case NbTable::kGateway:
        if (!s.gateways.contains(op.key)) return NotFound(op);
        Begin("delete", "Gateway");
        j_.Key("where").Raw("[[\"name\",\"==\",").Str(op.key).Raw("]]");
        return End();
      case NbTable::kCluster: {
        uint32_t id = static_cast<uint32_t>(std::stoul(op.key));
        if (!clusters_.contains(id) && !s.clusters.contains(id)) return NotFound(op);
        Begin("delete", "Cluster");
        j_.Key("where").Raw("[[\"cluster_id\",\"==\",").Int(id).Raw("]]");
        return End();
      }
      case NbTable::kVpc:
        if (!vpcs_.contains(op.key) && !s.vpcs.contains(op.key)) return NotFound(op);
        Begin("delete", "Vpc");
        j_.Key("where").Raw("[[\"vpc_id\",\"==\",").Str(op.key).Raw("]]");
        return End();
      case NbTable::kNetwork: {
        NetworkKey key(op.key, op.key2);
        if (!networks_.contains(key) && !s.networks.contains(key)) return NotFound(op);
        Begin("delete", "Network");
        j_.Key("where").Raw("[[\"vpc\",\"==\",").Raw(VpcRef(op.key).text);
        j_.Raw("],[\"network_id\",\"==\",").Str(op.key2).Raw("]]");
        return End();
      }
      case NbTable::kEndpoint:
        if (!EndpointExists(op.key)) return NotFound(op);
        Begin("delete", "Endpoint");
        EndpointWhere(op.key);
        return End();
      case NbTable::kGlobal:
        break;
    }
    return absl::InternalError("delete NB_Global");
  }

  const NbReplica& replica_;
  JsonText j_;
  size_t ops_ = 0;
  absl::flat_hash_map<std::string, std::string> hosts_;
  absl::flat_hash_map<uint32_t, std::string> clusters_;
  absl::flat_hash_map<std::string, std::string> vpcs_;
  std::map<NetworkKey, std::string> networks_;
  absl::flat_hash_set<std::string> endpoints_;
};

absl::StatusCode CodeFor(const std::string& error, const std::string& details) {
  if (error == "constraint violation") {
    if (absl::StrContains(details, "identical values")) return absl::StatusCode::kAlreadyExists;
    if (absl::StrContains(details, "rows")) return absl::StatusCode::kFailedPrecondition;
    return absl::StatusCode::kInvalidArgument;
  }
  if (error == "referential integrity violation") return absl::StatusCode::kFailedPrecondition;
  if (error == "not leader" || error == "not owner") return absl::StatusCode::kUnavailable;
  if (error == "timed out") return absl::StatusCode::kDeadlineExceeded;
  if (error == "resources exhausted") return absl::StatusCode::kResourceExhausted;
  if (error == "syntax error" || error == "domain error" || error == "range error") {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kInternal;
}

}  // namespace

void NbTxn::InsertHost(HostRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kHost, std::move(row)));
}
void NbTxn::UpdateHost(HostRow row) {
  ops_.push_back(MakeOp(Op::Kind::kUpdate, NbTable::kHost, std::move(row)));
}
void NbTxn::DeleteHost(std::string name) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kHost, {}, std::move(name)));
}
void NbTxn::InsertGateway(GatewayRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kGateway, std::move(row)));
}
void NbTxn::UpdateGateway(GatewayRow row) {
  ops_.push_back(MakeOp(Op::Kind::kUpdate, NbTable::kGateway, std::move(row)));
}
void NbTxn::SetGatewayObserved(GatewayRow row) {
  ops_.push_back(MakeOp(Op::Kind::kGatewayObserved, NbTable::kGateway, std::move(row)));
}
void NbTxn::SetGatewayMembership(GatewayRow row) {
  ops_.push_back(MakeOp(Op::Kind::kGatewayMembership, NbTable::kGateway, std::move(row)));
}
void NbTxn::DeleteGateway(std::string name) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kGateway, {}, std::move(name)));
}
void NbTxn::InsertCluster(ClusterRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kCluster, row));
}
void NbTxn::DeleteCluster(uint32_t id) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kCluster, {}, std::to_string(id)));
}
void NbTxn::InsertVpc(VpcRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kVpc, std::move(row)));
}
void NbTxn::UpdateVpc(VpcRow row) {
  ops_.push_back(MakeOp(Op::Kind::kUpdate, NbTable::kVpc, std::move(row)));
}
void NbTxn::DeleteVpc(std::string id) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kVpc, {}, std::move(id)));
}
void NbTxn::InsertNetwork(NetworkRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kNetwork, std::move(row)));
}
void NbTxn::DeleteNetwork(std::string vpc, std::string id) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kNetwork, {}, std::move(vpc), std::move(id)));
}
void NbTxn::InsertEndpoint(EndpointRow row) {
  ops_.push_back(MakeOp(Op::Kind::kInsert, NbTable::kEndpoint, std::move(row)));
}
void NbTxn::UpdateEndpoint(EndpointRow row) {
  ops_.push_back(MakeOp(Op::Kind::kUpdate, NbTable::kEndpoint, std::move(row)));
}
void NbTxn::SetEndpointStatus(std::string key, EndpointStatus status) {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kSetStatus;
  op->table = NbTable::kEndpoint;
  op->key = std::move(key);
  op->status = status;
  ops_.push_back(std::move(op));
}
void NbTxn::DeleteEndpoint(std::string key) {
  ops_.push_back(MakeOp(Op::Kind::kDelete, NbTable::kEndpoint, {}, std::move(key)));
}
void NbTxn::SetSettings(Settings settings) {
  ops_.push_back(MakeOp(Op::Kind::kSettings, NbTable::kGlobal, settings));
}
void NbTxn::SetActiveManager(ActiveManager manager) {
  auto op = std::make_shared<Op>();
  op->kind = Op::Kind::kActiveManager;
  op->table = NbTable::kGlobal;
  op->manager = std::move(manager);
  ops_.push_back(std::move(op));
}

std::string DescribeOp(const Op& op) {
  const char* verb = "insert";
  switch (op.kind) {
    case Op::Kind::kInsert:
      break;
    case Op::Kind::kUpdate:
    case Op::Kind::kSettings:
    case Op::Kind::kActiveManager:
      verb = "update";
      break;
    case Op::Kind::kGatewayObserved:
      verb = "set state of";
      break;
    case Op::Kind::kGatewayMembership:
      verb = "set membership of";
      break;
    case Op::Kind::kDelete:
      verb = "delete";
      break;
    case Op::Kind::kSetStatus:
      verb = "set status of";
      break;
  }
  if (op.table == NbTable::kGlobal) return absl::StrCat(verb, " NB_Global");
  return absl::StrCat(verb, " ", TableName(op.table), " '", OpKey(op), "'");
}

absl::StatusOr<BuiltTxn> BuildTransaction(const std::vector<std::shared_ptr<const Op>>& ops,
                                          const NbReplica& replica, const std::string& lock) {
  Builder b(replica);
  const bool insert_global = !replica.has_global();
  b.Prologue(insert_global, lock);
  BuiltTxn built;
  built.first_user_op = b.ops();
  for (const auto& op : ops) {
    if (auto s = b.Add(*op); !s.ok()) return s;
  }
  b.Epilogue();
  built.ops = b.ops();
  built.params = b.Take();
  return built;
}

absl::StatusOr<int64_t> ParseTransactReply(const Json& results, const BuiltTxn& built,
                                           const std::vector<std::shared_ptr<const Op>>& ops) {
  if (!results.is_array()) return absl::InternalError("transact: the reply is not an array");
  for (size_t i = 0; i < results.size(); ++i) {
    const Json& r = results[i];
    if (!r.is_object() || !r.contains("error")) continue;
    std::string error = r["error"].is_string() ? r["error"].get<std::string>() : "error";
    std::string details =
        r.contains("details") && r["details"].is_string() ? r["details"].get<std::string>() : "";
    std::string where;
    if (i >= built.ops) {
      where = absl::StrCat("commit of ", ops.size(), " operation(s)");
    } else if (i >= built.first_user_op && i - built.first_user_op < ops.size()) {
      where = DescribeOp(*ops[i - built.first_user_op]);
    } else if (error == "not owner") {
      // The prologue's assert: this connection does not hold the lock.
      where = "assert of the manager lock (not held: another manager is active)";
    } else {
      where = "NB_Global sequence";
    }
    std::string message = absl::StrCat(where, ": ", error);
    if (!details.empty()) absl::StrAppend(&message, ": ", details);
    return absl::Status(CodeFor(error, details), message);
  }
  if (results.size() < built.ops) return absl::InternalError("transact: reply too short");
  const Json& select = results[built.ops - 1];
  if (!select.is_object() || !select.contains("rows") || !select["rows"].is_array() ||
      select["rows"].size() != 1 || !select["rows"][0].contains("seqno") ||
      !select["rows"][0]["seqno"].is_number_integer()) {
    return absl::InternalError("transact: no NB_Global seqno in the reply");
  }
  return select["rows"][0]["seqno"].get<int64_t>();
}

}  // namespace shortcut::manager
