// Waiting in tests on a condition, with a deadline: the one wait tests
// use when the outcome arrives on another thread or process (never a fixed
// sleep followed by an assertion).
//
// Thread-safety: pred() runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace shortcut::testing {

// Until pred() holds, asking every 10 ms, at most timeout_ms; pred()'s
// last answer.
inline bool PollUntil(const std::function<bool()>& pred, int timeout_ms = 10000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace shortcut::testing
