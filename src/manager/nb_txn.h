// NbTxn's operations (store.h declares NbTxn; its Op is defined here so that
// the transaction builder can read it) and the translation of a whole NbTxn
// into one OVSDB "transact" request, and of the reply into a status.
//
// The request is built as JSON text in one pass (nb_rows.h's JsonText): a
// bulk load of 100,000 endpoints is one string of a few tens of MB, built
// in time linear in its size.
//
// Every transaction ends with two operations of its own: `mutate` NB_Global
// seqno += 1 and `select` seqno. The selected value is the commit's
// sequence number: once the replica shows NB_Global.seqno >= it, the
// replica includes the commit (the monitor delivers commits in order), so a
// writer can read its own write. A database without its NB_Global row gets
// one inserted by the first transaction.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "src/manager/nb_replica.h"
#include "src/manager/store.h"

namespace shortcut::manager {

struct NbTxn::Op {
  enum class Kind {
    kInsert,
    kUpdate,
    kDelete,
    kSetStatus,
    kSettings,
    kGatewayObserved,    // Gateway: state, instance_id, detail only.
    kGatewayMembership,  // Gateway: cluster and role only.
    kActiveManager,
  };
  Kind kind = Kind::kInsert;
  NbTable table = NbTable::kHost;
  NbRow row;         // kInsert, kUpdate, kSettings.
  std::string key;   // kDelete, kSetStatus: the row's key (a network: its VPC).
  std::string key2;  // kDelete of a network: its id.
  EndpointStatus status = EndpointStatus::kPending;  // kSetStatus.
  ActiveManager manager;                             // kActiveManager.
};

struct BuiltTxn {
  std::string params;        // The "transact" params array, as JSON text.
  size_t ops = 0;            // Operations in it.
  size_t first_user_op = 0;  // Index of the NbTxn's first operation.
};

// `lock`: when not empty, the transaction starts with an `assert` of that
// OVSDB lock, so that the server refuses it ("not owner") unless this
// connection holds the lock (a deposed manager cannot write).
// NotFound (an update or delete of a key the replica does not hold and the
// transaction does not insert), FailedPrecondition (a gateway naming a
// cluster that does not exist: a weak reference the database would drop).
// A strong reference to a missing row is written as a uuid that names no
// row, so the database itself refuses it (referential integrity).
absl::StatusOr<BuiltTxn> BuildTransaction(const std::vector<std::shared_ptr<const NbTxn::Op>>& ops,
                                          const NbReplica& replica, const std::string& lock = "");

// The reply's first error as a status (AlreadyExists for a duplicate in an
// index, FailedPrecondition for referential integrity, InvalidArgument for
// a value out of its column's range, ...) naming the operation, with the
// database's details; otherwise the commit's sequence number.
absl::StatusOr<int64_t> ParseTransactReply(
    const ovsdb::Json& results, const BuiltTxn& built,
    const std::vector<std::shared_ptr<const NbTxn::Op>>& ops);

std::string DescribeOp(const NbTxn::Op& op);

}  // namespace shortcut::manager
