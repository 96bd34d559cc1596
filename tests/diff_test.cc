// diff_test.cc - entry streams and their merge; relay values and masking.

#include "mapctl/diff.h"

#include <gtest/gtest.h>

#include "mapctl/relay.h"
#include "mapctl/secrets.h"
#include "test_util.h"

namespace mapctl {
namespace {

ParsedMap Parse(std::string text) {
  ParseOptions options;
  options.origin = "t";
  return ParseMapText(std::move(text), options);
}

std::string Diff(EntryStream& a, EntryStream& b, DiffCounts* counts = nullptr) {
  std::string out;
  Result<DiffCounts> r = DiffStreams(
      a, b, [&](DiffOp op, std::string_view k, std::string_view o,
                std::string_view n) {
        out += op == DiffOp::kAdded ? '+' : op == DiffOp::kRemoved ? '-' : '~';
        out += std::string(k) + "=" + std::string(o) + "/" + std::string(n) + ";";
        return true;
      });
  EXPECT_TRUE(r) << r.error().ToString();
  if (r && counts) *counts = *r;
  return out;
}

TEST(DiffTest, ReportsAddedRemovedChangedInKeyOrder) {
  ParsedMap a = Parse("b 1\na 1\nc 3\n");
  ParsedMap b = Parse("c 4\nd 5\nb 1\n");
  auto sa = StreamSource(a, DuplicatePolicy::kFirstWarn);
  auto sb = StreamSource(b, DuplicatePolicy::kFirstWarn);
  DiffCounts counts;
  EXPECT_EQ(Diff(*sa, *sb, &counts), "-a=1/;~c=3/4;+d=/5;");
  EXPECT_EQ(counts.same, 1u);
  EXPECT_FALSE(counts.identical());
}

TEST(DiffTest, SourceDuplicatesResolveAsPostmapBuilds) {
  ParsedMap a = Parse("k first\nK second\n");  // folded: duplicates
  ParsedMap b = Parse("k second\n");
  auto first = StreamSource(a, DuplicatePolicy::kFirstWarn);
  auto other = StreamSource(b, DuplicatePolicy::kFirstWarn);
  EXPECT_EQ(Diff(*first, *other), "~k=first/second;");
  auto last = StreamSource(a, DuplicatePolicy::kLast);
  auto other2 = StreamSource(b, DuplicatePolicy::kFirstWarn);
  EXPECT_EQ(Diff(*last, *other2), "");
}

TEST(DiffTest, TableSideIsReadInChunksAndComparesContent) {
  testing::TempDir dir;
  std::string src = dir.WriteFile("m", "a 1\nb 2\nc 3\nd 4\ne 5\n");
  auto reader = OpenTable({TableType::kTexthash, src}, OpenOptions{});
  ASSERT_TRUE(reader);
  auto table = StreamTable(**reader, 2);
  ParsedMap b = Parse("a 1\nb 2\nc 3\nd 4\ne 6\n");
  auto source = StreamSource(b, DuplicatePolicy::kFirstWarn);
  EXPECT_EQ(Diff(*table, *source), "~e=5/6;");
}

TEST(DiffTest, EmptySides) {
  ParsedMap a = Parse("");
  ParsedMap b = Parse("x y\n");
  auto sa = StreamSource(a, DuplicatePolicy::kFirstWarn);
  auto sb = StreamSource(b, DuplicatePolicy::kFirstWarn);
  EXPECT_EQ(Diff(*sa, *sb), "+x=/y;");
}

TEST(RelayValueTest, RelayFormsAndCredentials) {
  EXPECT_TRUE(LooksLikeRelayValue("[email-smtp.us-west-2.amazonaws.com]:587"));
  EXPECT_TRUE(LooksLikeRelayValue("[relay]"));
  EXPECT_TRUE(LooksLikeRelayValue("relay.example.net"));
  EXPECT_TRUE(LooksLikeRelayValue("relay.example.net:submission"));
  EXPECT_TRUE(LooksLikeRelayValue("dunno"));
  EXPECT_TRUE(LooksLikeRelayValue("[a.example]:587, [b.example]:587"));
  EXPECT_FALSE(LooksLikeRelayValue("AKIAEXAMPLE:secret"));
  EXPECT_FALSE(LooksLikeRelayValue("user.name:secret"));
  EXPECT_FALSE(LooksLikeRelayValue("relay.example.net:0"));
  EXPECT_FALSE(LooksLikeRelayValue("relay.example.net:65536"));
  EXPECT_FALSE(LooksLikeRelayValue("localhost"));  // no dot: could be a username
  EXPECT_FALSE(LooksLikeRelayValue("[a.example]:587 DUNNO"));
  EXPECT_FALSE(LooksLikeRelayValue(""));
}

TEST(RelayValueTest, ParseNextHopKeepsTheSpelling) {
  auto hop = ParseNextHop("[mail.isp.example]:587");
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->host, "mail.isp.example");
  EXPECT_EQ(hop->port, "587");
  EXPECT_TRUE(hop->bracketed);
  EXPECT_EQ(hop->text, "[mail.isp.example]:587");
  EXPECT_FALSE(ParseNextHop("[unclosed:25"));
  EXPECT_EQ(SplitDestinations(" a, b\tc,,").size(), 3u);
}

TEST(SecretsTest, MaskShowsOnlyTheUsername) {
  EXPECT_EQ(MaskCredential("AKIAEXAMPLE:pa:ss"), "AKIAEXAMPLE:****");
  EXPECT_EQ(MaskCredential(":pw"), ":****");
}

// "relayuser PWLEAK" is "relayuser:PWLEAK" with the ':' mistyped: smtp(8)
// would send PWLEAK as the username, but it is a password. None of it shows.
TEST(SecretsTest, AValueWithoutAColonMasksWhole) {
  EXPECT_EQ(MaskCredential("PWLEAK"), "****");
  EXPECT_EQ(MaskCredential(""), "****");
  EXPECT_TRUE(IsMalformedCredential("PWLEAK"));
  EXPECT_FALSE(IsMalformedCredential("user:PWLEAK"));
}

TEST(SecretsTest, CredentialTablesNamedByMainCfAndMasterCf) {
  testing::TempDir dir;
  MainConfig config = MainConfig::Parse(
      "smtp_sasl_password_maps = proxy:lmdb:" + dir.path().string() +
          "/sasl_passwd, inline:{ {a=b:c} }\n",
      dir.path().string(), "main.cf");
  std::vector<std::string> paths = CredentialTablePaths(
      config, "smtp unix - - n - - smtp\n  -o lmtp_sasl_password_maps=hash:" +
                  dir.path().string() + "/lmtp_passwd\n");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], CanonicalTablePath(dir.path().string() + "/sasl_passwd"));
  EXPECT_EQ(paths[1], CanonicalTablePath("lmdb:" + dir.path().string() +
                                         "/lmtp_passwd.db"));
}

}  // namespace
}  // namespace mapctl
