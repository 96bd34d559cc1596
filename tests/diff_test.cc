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

// MaskValues(): the one decision diff, query sender and check take.
class MaskValuesTest : public ::testing::Test {
 protected:
  MaskValuesTest()
      : config_(MainConfig::Parse("smtp_sasl_password_maps = lmdb:" +
                                      dir_.path().string() + "/sasl_passwd\n",
                                  dir_.path().string(), "main.cf")),
        named_(config_, "") {}

  // MaskValues() over `tables`, the probe answering `holds` for every
  // table and recording which it was asked about.
  Result<bool> Decide(SecretsRequest request, std::vector<std::string> tables,
                      Result<bool> holds) {
    probed_.clear();
    return MaskValues(request, named_, tables,
                      [&](const std::string& table) -> Result<bool> {
                        probed_.push_back(table);
                        return holds;
                      });
  }
  std::string Path(const std::string& name) const {
    return dir_.path().string() + "/" + name;
  }

  testing::TempDir dir_;
  MainConfig config_;
  CredentialTables named_;
  std::vector<std::string> probed_;
};

TEST_F(MaskValuesTest, ATableMainCfNamesMasksBothSidesWithoutReadingThem) {
  Result<bool> r =
      Decide(SecretsRequest::kAuto,
             {"lmdb:" + Path("relay"), "lmdb:" + Path("sasl_passwd")}, false);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_TRUE(probed_.empty());
}

TEST_F(MaskValuesTest,
       TablesNothingNamesAreReadInOrderUntilOneHoldsCredentials) {
  Result<bool> r = Decide(SecretsRequest::kAuto, {Path("a"), Path("b")}, true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(probed_, std::vector<std::string>{Path("a")});
  r = Decide(SecretsRequest::kAuto, {Path("a"), Path("b")}, false);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(probed_, (std::vector<std::string>{Path("a"), Path("b")}));
}

TEST_F(MaskValuesTest, AnErrorReadingATableIsTheAnswer) {
  Result<bool> r = Decide(SecretsRequest::kAuto, {Path("a"), Path("b")},
                          Status::IoError("open " + Path("a"), ENOENT));
  ASSERT_FALSE(r);
  EXPECT_EQ(probed_, std::vector<std::string>{Path("a")});
}

TEST_F(MaskValuesTest, SecretsMasksAndShowSecretsShowsWithoutLooking) {
  Result<bool> r = Decide(SecretsRequest::kMask, {Path("a")}, false);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  r = Decide(SecretsRequest::kShow, {"lmdb:" + Path("sasl_passwd")}, true);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_TRUE(probed_.empty());
}

TEST(MaskCredentialTableTest, ACredentialTableByItsRoleIsMaskedUnlessShown) {
  EXPECT_TRUE(MaskCredentialTable(SecretsRequest::kAuto));
  EXPECT_TRUE(MaskCredentialTable(SecretsRequest::kMask));
  EXPECT_FALSE(MaskCredentialTable(SecretsRequest::kShow));
}

}  // namespace
}  // namespace mapctl
