#include "src/openflow/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shortcut::of {
namespace {

using ::testing::HasSubstr;

Error E(uint16_t type, uint16_t code, uint32_t experimenter = 0) {
  Error e;
  e.type = type;
  e.code = code;
  e.experimenter = experimenter;
  return e;
}

TEST(ErrorsTest, TypeNames) {
  EXPECT_EQ(ErrorTypeName(0), "OFPET_HELLO_FAILED");
  EXPECT_EQ(ErrorTypeName(2), "OFPET_BAD_ACTION");
  EXPECT_EQ(ErrorTypeName(5), "OFPET_FLOW_MOD_FAILED");
  EXPECT_EQ(ErrorTypeName(12), "OFPET_METER_MOD_FAILED");
  EXPECT_EQ(ErrorTypeName(13), "OFPET_TABLE_FEATURES_FAILED");
  EXPECT_EQ(ErrorTypeName(0xffff), "OFPET_EXPERIMENTER");
  EXPECT_EQ(ErrorTypeName(42), "OFPET_42");
}

TEST(ErrorsTest, StandardErrors) {
  EXPECT_EQ(ErrorName(E(2, 4)), "OFPBAC_BAD_OUT_PORT");
  EXPECT_EQ(ErrorDescription(E(2, 4)), "Problem validating output port");
  EXPECT_EQ(ErrorName(E(1, 1)), "OFPBRC_BAD_TYPE");
  EXPECT_EQ(ErrorName(E(1, 10)), "OFPBRC_IS_SECONDARY");  // OF1.2+ code, not OF1.0's (1,5).
  EXPECT_EQ(ErrorName(E(1, 5)), "OFPBRC_EPERM");
  EXPECT_EQ(ErrorName(E(4, 9)), "OFPBMC_BAD_PREREQ");
  EXPECT_EQ(ErrorName(E(5, 3)), "OFPFMFC_OVERLAP");
  EXPECT_EQ(ErrorName(E(6, 0)), "OFPGMFC_GROUP_EXISTS");
  EXPECT_EQ(ErrorName(E(6, 8)), "OFPGMFC_UNKNOWN_GROUP");
  EXPECT_EQ(ErrorName(E(12, 1)), "OFPMMFC_METER_EXISTS");
  EXPECT_EQ(ErrorName(E(12, 3)), "OFPMMFC_UNKNOWN_METER");
  EXPECT_EQ(ErrorName(E(13, 2)), "OFPBPC_BAD_TYPE");  // OVS's name for OF1.3's (13,2).
}

TEST(ErrorsTest, ExperimenterErrors) {
  EXPECT_EQ(ErrorName(E(0xffff, 2313, kOnfExperimenter)), "OFPBFC_MSG_FAILED");
  EXPECT_EQ(ErrorName(E(0xffff, 2300, kOnfExperimenter)), "OFPBFC_UNKNOWN");
  EXPECT_EQ(ErrorName(E(0xffff, 2302, kOnfExperimenter)), "OFPBFC_BAD_ID");
  EXPECT_EQ(ErrorName(E(0xffff, 2360, kOnfExperimenter)), "OFPFMFC_BAD_PRIORITY");
  EXPECT_EQ(ErrorName(E(0xffff, 2600, kOnfExperimenter)), "OFPBIC_DUP_INST");
  EXPECT_EQ(ErrorName(E(0xffff, 2, kNiciraExperimenter)), "NXBRC_NXM_INVALID");
  EXPECT_EQ(ErrorName(E(0xffff, 4, kNiciraExperimenter)), "NXBRC_MUST_BE_ZERO");
  EXPECT_EQ(ErrorName(E(0xffff, 11, kNiciraExperimenter)), "NXBAC_MUST_BE_ZERO");
  EXPECT_EQ(ErrorDescription(E(0xffff, 2313, kOnfExperimenter)), "One message in bundle failed");
  // The same code means different things for different vendors.
  EXPECT_NE(ErrorName(E(0xffff, 2, kOnfExperimenter)), "NXBRC_NXM_INVALID");
}

TEST(ErrorsTest, UnknownErrors) {
  EXPECT_EQ(ErrorName(E(2, 999)), "OFPET_BAD_ACTION(999)");
  EXPECT_EQ(ErrorName(E(77, 1)), "OFPET_77(1)");
  EXPECT_EQ(ErrorName(E(0xffff, 9999, kNiciraExperimenter)), "NX(9999)");
  EXPECT_EQ(ErrorName(E(0xffff, 9999, kOnfExperimenter)), "ONF(9999)");
  EXPECT_EQ(ErrorName(E(0xffff, 1, 0x12345678)), "0x12345678(1)");
  EXPECT_EQ(ErrorDescription(E(77, 1)), "unknown error");
}

TEST(ErrorsTest, ToStatus) {
  absl::Status st = ErrorToStatus(E(0xffff, 2313, kOnfExperimenter), "commit bundle 5");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "commit bundle 5: OFPBFC_MSG_FAILED (One message in bundle failed)");
  absl::Status bare = ErrorToStatus(E(2, 4), "");
  EXPECT_EQ(bare.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bare.message(), "OFPBAC_BAD_OUT_PORT (Problem validating output port)");
}

}  // namespace
}  // namespace shortcut::of
