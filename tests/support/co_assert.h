// gtest assertions for coroutine tests. gtest's ASSERT_* return from the
// function, which a coroutine cannot do: these record the failure and
// co_return instead. Header-only; usable from any test thread.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "absl/status/status.h"

#define CO_ASSERT_TRUE(cond)                       \
  do {                                             \
    if (!(cond)) {                                 \
      ADD_FAILURE() << "expected true: " << #cond; \
      co_return;                                   \
    }                                              \
  } while (0)

#define CO_ASSERT_OK(expr)                                 \
  do {                                                     \
    absl::Status co_status_ = (expr);                      \
    if (!co_status_.ok()) {                                \
      ADD_FAILURE() << #expr << " failed: " << co_status_; \
      co_return;                                           \
    }                                                      \
  } while (0)

#define CO_TEST_CONCAT_INNER_(a, b) a##b
#define CO_TEST_CONCAT_(a, b) CO_TEST_CONCAT_INNER_(a, b)
// `lhs = value of expr` (an absl::StatusOr), or fail the test and co_return.
#define CO_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CO_ASSERT_OK_AND_ASSIGN_IMPL_(CO_TEST_CONCAT_(co_result_, __LINE__), lhs, expr)
#define CO_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)      \
  auto tmp = (expr);                                       \
  if (!tmp.ok()) {                                         \
    ADD_FAILURE() << #expr << " failed: " << tmp.status(); \
    co_return;                                             \
  }                                                        \
  lhs = std::move(tmp).value()
