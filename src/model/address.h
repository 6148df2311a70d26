// Addresses of the virtual network in compact form, with their parsers and
// formatters: what the management plane and the gateways both check and
// store. IPv4 in host byte order; IPv6 and MAC as their wire bytes.
//
// Parsers return nullopt on malformed text; callers compose the message
// (they know the field's name).
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shortcut::model {

using Ipv4 = uint32_t;
using Ipv6 = std::array<uint8_t, 16>;
using Mac = std::array<uint8_t, 6>;

std::optional<Ipv4> ParseIpv4(std::string_view text);  // Dotted quad (inet_pton).
std::optional<Ipv6> ParseIpv6(std::string_view text);  // Any inet_pton form.
std::optional<Mac> ParseMac(std::string_view text);    // "02:00:0a:00:00:01", any case.
std::string FormatIpv4(Ipv4 ip);
std::string FormatIpv6(const Ipv6& ip);  // inet_ntop's canonical form.
std::string FormatMac(const Mac& mac);   // Lower case, colons.
// Unicast and not all zeros: what a VM's MAC must be.
bool IsUnicast(const Mac& mac);

struct Ipv4Cidr {
  Ipv4 prefix = 0;  // Host bits zero.
  uint8_t length = 0;
  bool Contains(Ipv4 ip) const;
};
struct Ipv6Cidr {
  Ipv6 prefix{};
  uint8_t length = 0;
  bool Contains(const Ipv6& ip) const;
};
// "10.0.0.0/24"; nullopt when malformed or when host bits are set.
std::optional<Ipv4Cidr> ParseIpv4Cidr(std::string_view text);
std::optional<Ipv6Cidr> ParseIpv6Cidr(std::string_view text);
std::string FormatCidr(const Ipv4Cidr& cidr);
std::string FormatCidr(const Ipv6Cidr& cidr);
// Whether two prefixes share an address.
bool Overlaps(const Ipv4Cidr& a, const Ipv4Cidr& b);
bool Overlaps(const Ipv6Cidr& a, const Ipv6Cidr& b);

// The syntax of a switch target as Open vSwitch spells it: empty, or
// "tcp:...", "ssl:...", "unix:..." with something after the prefix.
// (ofconn::ParseTarget checks the rest when connecting.)
bool ValidTargetText(std::string_view target);

}  // namespace shortcut::model
