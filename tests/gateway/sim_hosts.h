// Simulated hosts for the gateway's tests: one FakeSwitch per name,
// listening on DIR/NAME.mgmt, and Gateway options that suit tests (quick
// reconnects, no keepalive probes, 2 s per host call).
//
// Thread-safety: none; the switches run on the executor given to Start().
#pragma once

#include <asio/any_io_executor.hpp>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "src/gateway/gateway.h"
#include "src/openflow/message.h"
#include "src/packet/packet.h"
#include "tests/fakes/fake_switch.h"
#include "tests/support/temp_dir.h"

namespace shortcut::gateway {

inline Gateway::Options TestGatewayOptions() {
  Gateway::Options o;
  o.session.min_backoff = 50;
  o.session.connection.probe_interval = 0;
  o.host_timeout = 2000;
  return o;
}

struct SimHosts {
  std::map<std::string, std::string> targets;  // Name → "unix:DIR/NAME.mgmt".
  std::map<std::string, std::unique_ptr<fakes::FakeSwitch>> switches;

  absl::Status Start(asio::any_io_executor ex, const testing::TempDir& dir,
                     std::initializer_list<const char*> names) {
    for (const char* name : names) {
      auto sw = std::make_unique<fakes::FakeSwitch>(ex);
      auto target = sw->ListenUnix(dir.File(std::string(name) + ".mgmt"));
      if (!target.ok()) return target.status();
      targets[name] = *target;
      switches[name] = std::move(sw);
    }
    return absl::OkStatus();
  }
};

// A metered copy as the gateway bridge sends it: tunnel metadata (the
// sending host, metadata = VNI) and an ICMP echo from `src` to `dst`.
inline of::PacketIn TestPacketIn(Ipv4 from_host, uint32_t vni, Ipv4 src, Ipv4 dst) {
  of::PacketIn pin;
  pin.reason = of::kPacketInAction;
  pin.match.Set(of::Field::kTunIpv4Src, from_host);
  pin.match.Set(of::Field::kMetadata, vni);
  packet::PacketBuilder b;
  b.Eth(packet::MacAddr{2, 0, 0, 0, 0, 1}, packet::MacAddr{2, 0x5c, 0, 0, 0, 1})
      .Ipv4(packet::Ipv4Addr{src}, packet::Ipv4Addr{dst})
      .Icmp(8, 0, 0x10001);
  pin.data = b.Build();
  return pin;
}

}  // namespace shortcut::gateway
