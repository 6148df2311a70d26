// Status propagation macros for absl::Status / absl::StatusOr.
//
// Shortcut reports errors as values (see ARCHITECTURE.md, "Error policy");
// these macros keep the early-return pattern short. Header-only, stateless.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SHORTCUT_CONCAT_INNER_(a, b) a##b
#define SHORTCUT_CONCAT_(a, b) SHORTCUT_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status shortcut_status_ = (expr);            \
    if (!shortcut_status_.ok()) return shortcut_status_; \
  } while (0)

// `lhs = value of expr` where expr is an absl::StatusOr<T>; returns its
// status from the enclosing function if it is not OK.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(SHORTCUT_CONCAT_(shortcut_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)   \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

// The same two for asio coroutines, which must co_return.
#define CO_RETURN_IF_ERROR(expr)                            \
  do {                                                      \
    ::absl::Status shortcut_status_ = (expr);               \
    if (!shortcut_status_.ok()) co_return shortcut_status_; \
  } while (0)
#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  CO_ASSIGN_OR_RETURN_IMPL_(SHORTCUT_CONCAT_(shortcut_statusor_, __LINE__), lhs, expr)
#define CO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)   \
  auto tmp = (expr);                                \
  if (!tmp.ok()) co_return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
