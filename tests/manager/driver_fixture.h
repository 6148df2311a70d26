// The driver's test bench: an io_context run by the test, a state of record
// (MemoryStore, or the real NbStore through NbStoreDriverStore), fake
// gateways, and time that moves only when the test says.
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "src/manager/driver.h"
#include "src/manager/gateway_content.h"
#include "tests/manager/fake_gateway.h"

namespace shortcut::manager::testing {

// Runs the io_context until `done()` or 10 s of wall time (a bound, not a
// timing assertion).
inline bool RunUntil(asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
  return done();
}

// The gateway's whole content against the desired-content function.
inline ::testing::AssertionResult HoldsExactly(const GatewayContent& have,
                                               const std::optional<GatewayContent>& want) {
  using google::protobuf::util::MessageDifferencer;
  if (!want) return ::testing::AssertionFailure() << "no desired content";
  if (!MessageDifferencer::Equals(have.cluster, want->cluster)) {
    return ::testing::AssertionFailure() << "cluster: have " << have.cluster.ShortDebugString()
                                         << "\nwant " << want->cluster.ShortDebugString();
  }
  if (have.vpcs.size() != want->vpcs.size()) {
    std::string h, w;
    for (auto& [id, v] : have.vpcs) h += id + " ";
    for (auto& [id, v] : want->vpcs) w += id + " ";
    return ::testing::AssertionFailure() << "vpcs: have [" << h << "] want [" << w << "]";
  }
  for (const auto& [id, v] : want->vpcs) {
    auto it = have.vpcs.find(id);
    if (it == have.vpcs.end()) return ::testing::AssertionFailure() << "vpc " << id << " missing";
    if (!MessageDifferencer::Equals(it->second.vpc, v.vpc)) {
      return ::testing::AssertionFailure()
             << "vpc " << id << ": have " << it->second.vpc.ShortDebugString() << "\nwant "
             << v.vpc.ShortDebugString();
    }
    if (it->second.endpoints.size() != v.endpoints.size()) {
      return ::testing::AssertionFailure() << "vpc " << id << ": " << it->second.endpoints.size()
                                           << " endpoints, want " << v.endpoints.size();
    }
    for (size_t i = 0; i < v.endpoints.size(); ++i) {
      if (!MessageDifferencer::Equals(it->second.endpoints[i], v.endpoints[i])) {
        return ::testing::AssertionFailure()
               << "endpoint: have " << it->second.endpoints[i].ShortDebugString() << "\nwant "
               << v.endpoints[i].ShortDebugString();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace shortcut::manager::testing
