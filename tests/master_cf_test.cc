// master_cf_test.cc - the one master.cf parser (postfix/master_cf.h) and the
// callers that read master.cf through it.

#include "postfix/master_cf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/secrets.h"

namespace mapctl {
namespace {

TEST(MasterCfTest, ContinuationLinesJoinAndKeepTheirLineNumbers) {
  std::vector<MasterService> s = ParseMasterCf(
      "# comment\n"
      "relay unix - - n - - smtp\n"
      "  -o smtp_tls_security_level=encrypt\n"
      "\n"
      "  -o { smtp_helo_name = a b }\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "relay");
  EXPECT_EQ(s[0].command, "smtp");
  EXPECT_EQ(s[0].line, 2u);
  ASSERT_EQ(s[0].overrides.size(), 2u);
  EXPECT_EQ(s[0].overrides[0].name, "smtp_tls_security_level");
  EXPECT_EQ(s[0].overrides[0].value, "encrypt");
  EXPECT_EQ(s[0].overrides[0].line, 3u);
  EXPECT_EQ(s[0].overrides[1].name, "smtp_helo_name");
  EXPECT_EQ(s[0].overrides[1].value, "a b");
  EXPECT_EQ(s[0].overrides[1].line, 5u);
}

TEST(MasterCfTest, ACommentedOutOverrideDoesNotCount) {
  std::vector<MasterService> s = ParseMasterCf(
      "smtp unix - - n - - smtp\n"
      "#  -o smtp_sasl_password_maps=hash:/etc/postfix/old\n"
      "  -o smtp_helo_name=x.example\n");
  ASSERT_EQ(s.size(), 1u);
  ASSERT_EQ(s[0].overrides.size(), 1u);
  EXPECT_EQ(s[0].overrides[0].name, "smtp_helo_name");
}

TEST(MasterCfTest, ACommentedOutPasswordMapsIsNoCredentialTable) {
  MainConfig config("/nonexistent-config");
  std::vector<std::string> paths = CredentialTablePaths(
      config,
      "smtp unix - - n - - smtp\n"
      "#  -o smtp_sasl_password_maps=hash:/etc/postfix/old_passwd\n"
      "  -o lmtp_sasl_password_maps=lmdb:/etc/postfix/lmtp_passwd\n");
  for (const std::string& p : paths) {
    EXPECT_EQ(p.find("old_passwd"), std::string::npos) << p;
  }
  bool lmtp = false;
  for (const std::string& p : paths) {
    lmtp = lmtp || p.find("lmtp_passwd") != std::string::npos;
  }
  EXPECT_TRUE(lmtp);
}

TEST(MasterCfTest, BracesInTheServiceFieldsAreOrdinaryBytes) {
  // get_str_ent() reads the eight fields with mystrtok(): only the
  // command's arguments keep a {...} group whole.
  std::vector<MasterService> s =
      ParseMasterCf("a{ unix - - n - - b}\n  -o { x = 1 }\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "a{");
  EXPECT_EQ(s[0].command, "b}");
  ASSERT_EQ(s[0].overrides.size(), 1u);
  EXPECT_EQ(s[0].overrides[0].value, "1");
}

TEST(MasterCfTest, LinesWithFewerThanEightFieldsAreNoService) {
  EXPECT_TRUE(ParseMasterCf("smtp inet n - y - -\n").empty());
}

}  // namespace
}  // namespace mapctl
