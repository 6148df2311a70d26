// Golden tests use Open vSwitch's own tools as oracles. Without ovs-ofctl
// they skip, so that a developer's machine without Open vSwitch still runs
// the rest; where the oracle is required (environment variable CI or
// SHORTCUT_REQUIRE_OVS set, as scripts/test does) a missing ovs-ofctl fails
// them instead, so a run cannot pass by skipping.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/support/subprocess.h"

namespace shortcut::testing {

// CI or SHORTCUT_REQUIRE_OVS is set to something other than "", "0" or "false".
inline bool OvsOracleRequired() {
  for (const char* name : {"CI", "SHORTCUT_REQUIRE_OVS"}) {
    const char* v = std::getenv(name);
    if (v == nullptr) continue;
    std::string s = v;
    if (!s.empty() && s != "0" && s != "false") return true;
  }
  return false;
}

inline bool HaveOvsOfctl() { return !Shell("command -v ovs-ofctl").out.empty(); }

}  // namespace shortcut::testing

// In a test body or SetUp(): goes on if ovs-ofctl is there; otherwise fails
// the test when the oracle is required, and skips it when not.
#define SHORTCUT_NEED_OVS_OFCTL()                                                      \
  do {                                                                                 \
    if (::shortcut::testing::HaveOvsOfctl()) break;                                    \
    if (::shortcut::testing::OvsOracleRequired()) {                                    \
      FAIL() << "ovs-ofctl not installed, and CI or SHORTCUT_REQUIRE_OVS asks for it"; \
    }                                                                                  \
    GTEST_SKIP() << "ovs-ofctl not installed";                                         \
  } while (0)
