// For broken invariants inside Shortcut ("cannot happen"): the error policy
// (ARCHITECTURE.md) ends the process loudly rather than limping on. Never
// for input from outside, which gets an error status instead.
//
// Thread-safety: safe from any thread.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace shortcut {

[[noreturn]] inline void Fatal(const std::string& what) {
  std::fprintf(stderr, "shortcut: fatal: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace shortcut
