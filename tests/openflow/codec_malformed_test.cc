// Malformed input: every bad length or value is reported with a status that
// names what is wrong; truncation at any point never crashes or over-reads
// (run under ASan in the sanitizer build).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "src/common/hex.h"
#include "src/openflow/codec.h"

namespace shortcut::of {
namespace {

using ::testing::HasSubstr;

// A whole OpenFlow 1.3 message of `type` with xid 1 around `body_hex`.
Bytes Msg(uint8_t type, std::string_view body_hex) {
  absl::StatusOr<Bytes> body = FromHex(body_hex);
  EXPECT_TRUE(body.ok()) << body.status() << " in " << body_hex;
  Bytes out = body.ok() ? *body : Bytes{};
  const uint8_t header[] = {kVersion13, type, 0, 0, 0, 0, 0, 1};
  out.insert(out.begin(), std::begin(header), std::end(header));
  out[2] = static_cast<uint8_t>(out.size() >> 8);
  out[3] = static_cast<uint8_t>(out.size());
  return out;
}

constexpr uint8_t kFlowMod = 14;
// ofp_flow_mod after the header, before the match: ADD, priority 0x8000.
constexpr std::string_view kFlowModFixed =
    "0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000";
constexpr std::string_view kMatchInPort1 = "0001000c 80000004 00000001 00000000";

std::string FlowMod(std::string_view match, std::string_view instructions) {
  return std::string(kFlowModFixed) + std::string(match) + std::string(instructions);
}
// One apply_actions instruction around `actions` (whose byte length is given).
std::string Apply(size_t actions_len, std::string_view actions) {
  return absl::StrFormat("0004%04x00000000", 8 + actions_len) + std::string(actions);
}

struct Case {
  const char* name;
  uint8_t type;
  std::string body;
  absl::StatusCode code;
  const char* want;  // Substring of the status message.
};

std::vector<Case> Cases() {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const auto kUnimpl = absl::StatusCode::kUnimplemented;
  const std::string out2 = "0000 0010 00000002 ffff 000000000000";
  return {
      // Header-level problems.
      {"unknown message type", 16, "", kUnimpl, "unsupported message type 16"},
      {"unknown message type 99", 99, "", kUnimpl, "unsupported message type 99"},
      {"barrier with body", 20, "00", kInvalid, "barrier_request: body of 1 bytes, expected 0"},
      {"role wrong size", 24, "00000002", kInvalid, "role_request"},
      {"hello element length 2", 0, "00010002", kInvalid, "element length 2 < 4"},
      {"hello element beyond end", 0, "0001001000000010", kInvalid, "exceeds"},
      {"error too short", 1, "00", kInvalid, "error"},
      {"experimenter error too short", 1, "ffff0001", kInvalid, "experimenter error"},
      {"features reply short", 6, "00", kInvalid, "features_reply"},
      {"port status short", 12, "02", kInvalid, "port_status"},
      // flow_mod and its match.
      {"flow_mod short", kFlowMod, "00", kInvalid, "flow_mod"},
      {"flow_mod bad command", kFlowMod,
       "0000000000000000 0000000000000000 00 09 0000 0000 8000 ffffffff ffffffff ffffffff 0000 "
       "0000 00010004 00000000",
       kInvalid, "unknown command 9"},
      {"match type 0", kFlowMod, FlowMod("00000004 00000000", ""), kInvalid,
       "unsupported match type 0"},
      {"match length 2", kFlowMod, FlowMod("00010002 00000000", ""), kInvalid, "length 2 < 4"},
      {"match length beyond", kFlowMod, FlowMod("000100ff 80000004 00000001 00000000", ""),
       kInvalid, "match: length 255"},
      {"oxm wrong length", kFlowMod, FlowMod("0001000b 80000003 000000 0000000000", ""), kInvalid,
       "OXM in_port: length 3, expected 4"},
      {"oxm mask on in_port", kFlowMod, FlowMod("00010010 80000108 00000001 ffffffff", ""),
       kInvalid, "not maskable"},
      {"oxm duplicate", kFlowMod,
       FlowMod("00010014 80000004 00000001 80000004 00000002 00000000", ""), kInvalid,
       "duplicate field in_port"},
      {"oxm unknown", kFlowMod, FlowMod("0001000c 80006404 00000001 00000000", ""), kInvalid,
       "unknown field (class 0x8000, field 50)"},
      {"oxm unknown class", kFlowMod, FlowMod("0001000c 00030004 00000001 00000000", ""), kInvalid,
       "unknown field (class 0x0003, field 0)"},
      {"oxm value outside mask", kFlowMod, FlowMod("00010010 80001908 0a000001 ffffff00", ""),
       kInvalid, "ip_dst: value has 1-bits outside its mask"},
      {"oxm header truncated", kFlowMod, FlowMod("00010006 8000 0000", ""), kInvalid,
       "header truncated"},
      {"oxm payload beyond match", kFlowMod, FlowMod("00010008 80000004 00000000", ""), kInvalid,
       "exceeds"},
      // Instructions.
      {"instruction length 0", kFlowMod, FlowMod(kMatchInPort1, "00010000 00000000"), kInvalid,
       "length 0 is less than 8"},
      {"instruction length 12", kFlowMod, FlowMod(kMatchInPort1, "0001000c 01000000 00000000"),
       kInvalid, "not a multiple of 8"},
      {"instruction beyond end", kFlowMod, FlowMod(kMatchInPort1, "00010010 01000000"), kInvalid,
       "beyond the end of the instruction list"},
      {"instruction trailing bytes", kFlowMod, FlowMod(kMatchInPort1, "00010008 01000000 0000"),
       kInvalid, "truncated"},
      {"duplicate instruction", kFlowMod,
       FlowMod(kMatchInPort1, "00010008 01000000 00010008 02000000"), kInvalid,
       "duplicate instruction"},
      {"unknown instruction", kFlowMod, FlowMod(kMatchInPort1, "00070008 00000000"), kInvalid,
       "unknown instruction type 7"},
      {"goto_table length 16", kFlowMod,
       FlowMod(kMatchInPort1, "00010010 01000000 00000000 00000000"), kInvalid,
       "goto_table, type 1) at offset 0: length: 16, expected 8"},
      // Actions.
      {"action length 0", kFlowMod, FlowMod(kMatchInPort1, Apply(8, "00000000 00000000")), kInvalid,
       "length 0 is less than 8"},
      {"action length 12", kFlowMod,
       FlowMod(kMatchInPort1, Apply(16, "0000000c 00000002 ffff0000 00000000")), kInvalid,
       "length 12 is not a multiple of 8"},
      {"action beyond list", kFlowMod,
       FlowMod(kMatchInPort1, Apply(16, "00000020 00000002 ffff0000 00000000")), kInvalid,
       "beyond the end of the action list"},
      {"action header truncated", 13, "ffffffff fffffffd 0004 000000000000 00000000", kInvalid,
       "truncated (4 bytes left, need 8)"},
      {"output length 24", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "00000018 00000002 ffff0000 00000000 0000000000000000")),
       kInvalid, "length: 24, expected 16"},
      {"unknown action", kFlowMod, FlowMod(kMatchInPort1, Apply(8, "000b0008 00000000")), kInvalid,
       "unknown action type 11"},
      {"unknown nicira subtype", kFlowMod,
       FlowMod(kMatchInPort1, Apply(16, "ffff0010 00002320 0063 000000000000")), kInvalid,
       "unknown Nicira action subtype 99"},
      {"unknown experimenter action", kFlowMod,
       FlowMod(kMatchInPort1, Apply(16, "ffff0010 12345678 0000 000000000000")), kInvalid,
       "unknown experimenter 0x12345678"},
      {"controller2 property length 0", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "ffff0018 00002320 0025 000000000000 00000000 00000000")),
       kInvalid, "property: length 0 < 4"},
      {"controller2 property beyond", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "ffff0018 00002320 0025 000000000000 00000010 00000000")),
       kInvalid, "property: length 16"},
      {"controller2 unknown property", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "ffff0018 00002320 0025 000000000000 00090004 00000000")),
       kInvalid, "unknown NXAST_CONTROLLER2 property type 9"},
      {"controller2 meter_id short", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "ffff0018 00002320 0025 000000000000 00050006 00040000")),
       kInvalid, "meter_id property"},
      {"set_field with mask", kFlowMod,
       FlowMod(kMatchInPort1, Apply(16, "00190010 80001908 0a000001 ffffff00")), kInvalid,
       "has a mask where none is allowed"},
      {"set_field wrong padding", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "00190018 80001804 0a000001 00000000 00000000 00000000")),
       kInvalid, "length: 24, expected 16"},
      {"resubmit length 24", kFlowMod,
       FlowMod(kMatchInPort1, Apply(24, "ffff0018 00002320 000e fff8 07000000 0000000000000000")),
       kInvalid, "length: 24, expected 16"},
      // Group buckets.
      {"group type 9", 15, "0000 09 00 00000007", kInvalid, "unknown group type 9"},
      {"group command 5", 15, "0005 01 00 00000007", kInvalid, "unknown command 5"},
      {"bucket length 8", 15, "0000 01 00 00000007 0008 0000 ffffffff ffffffff 00000000", kInvalid,
       "bucket 0 at offset 0: length 8 < 16"},
      {"bucket length beyond", 15, "0000 01 00 00000007 0040 0000 ffffffff ffffffff 00000000",
       kInvalid, "length 64 exceeds"},
      {"bucket truncated", 15, "0000 01 00 00000007 0010 0000 ffff", kInvalid, "truncated"},
      {"bucket with partial action", 15,
       "0000 01 00 00000007 0014 0000 ffffffff ffffffff 00000000 00000010", kInvalid, "truncated"},
      // Meter bands.
      {"band length 12", 29, "0000 0001 00000001 0001000c 000003e8 00000000 00000000", kInvalid,
       "length 12, expected 16"},
      {"band type 3", 29, "0000 0001 00000001 00030010 000003e8 00000000 00000000", kInvalid,
       "unsupported band type 3"},
      {"band truncated", 29, "0000 0001 00000001 00010010 000003e8", kInvalid, "truncated"},
      {"meter command 3", 29, "0003 0001 00000001", kInvalid, "unknown command 3"},
      // Multipart.
      {"flow stats entry length 0", 19, "0001 0000 00000000 0000" + std::string(2 * 54, '0'),
       kInvalid, "length 0 < 56"},
      {"flow stats entry beyond", 19, "0001 0000 00000000 0100" + std::string(2 * 54, '0'),
       kInvalid, "length 256 exceeds"},
      {"port desc not multiple of 64", 19, "000d 0000 00000000" + std::string(64, '0'), kInvalid,
       "not a multiple of 64"},
      {"group features size", 19, "0008 0000 00000000 00000000", kInvalid,
       "body of 4 bytes, expected 40"},
      {"meter config entry length 4", 19, "000a 0000 00000000 0004 0000 00000000", kInvalid,
       "length 4 < 8"},
      {"multipart reply header short", 19, "0001", kInvalid, "truncated header"},
      {"unknown multipart reply", 19, "0063 0000 00000000", kUnimpl,
       "unsupported multipart type 99"},
      {"unknown multipart request", 18, "0063 0000 00000000", kUnimpl,
       "unsupported multipart type 99"},
      {"flow stats request trailing", 18,
       "0001 0000 00000000 00000000 ffffffff ffffffff 00000000 0000000000000000 0000000000000000 "
       "00010004 00000000 00",
       kInvalid, "trailing"},
      // Bundles and other experimenter messages.
      {"experimenter short", 4, "4f4e4600", kInvalid, "experimenter: truncated"},
      {"unknown experimenter", 4, "00002320 00000000", kUnimpl, "experimenter 0x00002320"},
      {"bundle control short", 4, "4f4e4600 000008fc 00000001", kInvalid, "bundle control"},
      {"bundle control type 9", 4, "4f4e4600 000008fc 00000001 0009 0000", kInvalid,
       "unknown bundle control type 9"},
      {"bundle add inner beyond", 4, "4f4e4600 000008fd 00000001 0000 0000 040e0040 00000001",
       kInvalid, "inner message length 64 exceeds"},
      {"bundle add inner xid", 4, "4f4e4600 000008fd 00000001 0000 0000 04140008 00000002",
       kInvalid, "inner xid 0x2 != outer xid 0x1"},
      {"bundle add inner short", 4, "4f4e4600 000008fd 00000001 0000 0000 04140004 00000001",
       kInvalid, "shorter than 8"},
      {"bundle add inner version", 4, "4f4e4600 000008fd 00000001 0000 0000 01140008 00000001",
       kInvalid, "inner message version 1"},
      // Packet in / out.
      {"packet_out actions beyond", 13, "ffffffff fffffffd 0020 000000000000 0000000000000000",
       kInvalid, "actions: length 32 exceeds"},
      {"packet_in bad match", 10, "ffffffff 0000 00 00 0000000000000000 00010100 00000000",
       kInvalid, "packet_in: match"},
      {"packet_in missing pad", 10, "ffffffff 0000 00 00 0000000000000000 00010004 00000000",
       kInvalid, "truncated after match"},
      {"flow_removed trailing", 11,
       "0000000000000000 0000 00 00 00000000 00000000 0000 0000 0000000000000000 "
       "0000000000000000 00010004 00000000 00",
       kInvalid, "trailing"},
  };
}

TEST(CodecMalformedTest, TableOfBadInputs) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    Bytes bytes = Msg(c.type, c.body);
    absl::StatusOr<Message> m = Decode(bytes);
    ASSERT_FALSE(m.ok()) << ToHex(bytes);
    EXPECT_EQ(m.status().code(), c.code) << m.status();
    EXPECT_THAT(std::string(m.status().message()), HasSubstr(c.want)) << ToHex(bytes);
  }
}

TEST(CodecMalformedTest, HeaderProblems) {
  EXPECT_FALSE(DecodeHeader(Bytes{4, 0, 0}).ok());
  absl::StatusOr<Header> h = DecodeHeader(Bytes{4, 0, 0, 4, 0, 0, 0, 1});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("length 4 < 8"));

  Bytes barrier = Msg(20, "");
  barrier.push_back(0);  // One byte more than the header's length.
  absl::StatusOr<Message> m = Decode(barrier);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("length field 8 != message size 9"));

  Bytes v10 = Msg(kFlowMod, FlowMod(kMatchInPort1, ""));
  v10[0] = 0x01;
  m = Decode(v10);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("unsupported version 0x01"));
}

// A valid message of each kind, cut at every length with the header's length
// patched to match: decoding either fails with InvalidArgument or, when the
// cut falls on an element boundary, yields a message that re-encodes to
// exactly the cut bytes.
TEST(CodecMalformedTest, TruncationAtEveryLength) {
  std::vector<Bytes> samples = {
      Msg(kFlowMod,
          FlowMod(kMatchInPort1,
                  "00060008 00000004" +
                      Apply(56,
                            "00190010 80000606 0a0b0c0d0e0f0000 00000010 00000002 ffff0000 "
                            "00000000 ffff0018 00002320 0025 000000000000 00050008 00000004") +
                      "00010008 05000000")),
      Msg(15,
          "0000 01 00 00000007 0020 0005 ffffffff ffffffff 00000000 00000010 00000001 ffff0000 "
          "00000000"),
      Msg(29, "0000 0005 00000001 00010010 000003e8 00000064 00000000"),
      Msg(19,
          "0001 0001 00000000 0040 01 00 0000000a 00000000 0005 0000 0000 0000 00000000 "
          "0000000000000009 0000000000000003 000000000000012c 0001000c 80000004 00000001 "
          "00000000"),
      Msg(4, "4f4e4600 000008fd 00000005 0000 0001 04140008 00000001"),
      Msg(10,
          "ffffffff 000e 01 04 0000000000000abc 0001000c 80000004 00000003 00000000 0000 "
          "000102030405"),
  };
  for (const Bytes& full : samples) {
    absl::StatusOr<Message> whole = Decode(full);
    ASSERT_TRUE(whole.ok()) << whole.status() << "\n" << ToHex(full);
    for (size_t n = 0; n < full.size(); ++n) {
      Bytes cut(full.begin(), full.begin() + n);
      // Unpatched: the length field no longer matches.
      EXPECT_FALSE(Decode(cut).ok());
      if (n < kHeaderLen) continue;
      cut[2] = static_cast<uint8_t>(n >> 8);
      cut[3] = static_cast<uint8_t>(n);
      absl::StatusOr<Message> m = Decode(cut);
      if (m.ok()) {
        absl::StatusOr<Bytes> again = Encode(*m);
        ASSERT_TRUE(again.ok()) << again.status();
        EXPECT_EQ(ToHex(*again), ToHex(cut)) << "cut at " << n;
      } else {
        EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument)
            << "cut at " << n << ": " << m.status();
      }
    }
  }
}

TEST(CodecMalformedTest, PieceDecodersStayWithinTheirLength) {
  // DecodeActions must not read past `len` even if the reader has more.
  absl::StatusOr<Bytes> b = FromHex("00000010 00000002 ffff0000 00000000");
  ASSERT_TRUE(b.ok());
  ByteReader r(*b);
  absl::StatusOr<ActionList> a = DecodeActions(r, 8);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("beyond the end of the action list"));
  ByteReader r2(*b);
  EXPECT_FALSE(DecodeActions(r2, 32).ok());
  ByteReader r3(*b);
  EXPECT_FALSE(DecodeInstructions(r3, 17).ok());
  ByteReader r4(std::span<const uint8_t>(b->data(), 2));
  EXPECT_FALSE(DecodeMatch(r4).ok());
}

}  // namespace
}  // namespace shortcut::of
