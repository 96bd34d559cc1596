// relay_test.cc - the one next-hop parser (relay.h) and the one credential
// value parser (secrets.h), one rule per test.

#include "mapctl/relay.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "mapctl/secrets.h"
#include "mapctl/sender.h"

namespace mapctl {
namespace {

TEST(NextHopTest, BracketedIpv6KeepsItsColonsAndTakesThePortAfterTheBracket) {
  std::optional<NextHop> hop = ParseNextHop("[ipv6:2001:db8::1]:2525");
  ASSERT_TRUE(hop);
  EXPECT_TRUE(hop->bracketed);
  EXPECT_EQ(hop->host, "2001:db8::1");
  EXPECT_EQ(hop->port, "2525");
}

TEST(NextHopTest, UnbracketedHostSplitsAtTheLastColon) {
  // host_port.c: split_at_right(). With find(':') the host would be "a".
  NextHop hop = SplitNextHop("a:b:25");
  EXPECT_EQ(hop.host, "a:b");
  EXPECT_EQ(hop.port, "25");
  hop = SplitNextHop("relay.example:587");
  EXPECT_TRUE(hop.valid);
  EXPECT_FALSE(hop.bracketed);
  EXPECT_EQ(hop.host, "relay.example");
  EXPECT_EQ(hop.port, "587");
}

TEST(NextHopTest, APortMayBeAServiceName) {
  std::optional<NextHop> hop = ParseNextHop("[smtp.example]:smtp");
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->host, "smtp.example");
  EXPECT_EQ(hop->port, "smtp");
  EXPECT_FALSE(ParseNextHop("[smtp.example]:no-such-service"));
}

TEST(NextHopTest, BadFormsGiveNoNextHopButStillTheirPieces) {
  EXPECT_FALSE(ParseNextHop("[unclosed.example"));
  EXPECT_FALSE(ParseNextHop("[a.example]x"));
  EXPECT_FALSE(ParseNextHop("host.example:"));
  EXPECT_FALSE(ParseNextHop("[a.example]:0"));
  // Found by relay_value_fuzz: the prefix alone leaves no host at all.
  EXPECT_FALSE(ParseNextHop("[ipv6:]:587"));
  EXPECT_FALSE(ParseNextHop("[IPv6:]"));
  EXPECT_FALSE(ParseNextHop("user@host.example"));
  EXPECT_EQ(SplitNextHop("[unclosed.example").host, "unclosed.example");
}

TEST(NextHopTest, TheSenderSearchSplitsValuesAsTheParserDoes) {
  const std::string_view value =
      "[a.example]:587, b.example\tc.example:2525 [ipv6:2001:db8::1]:25";
  std::vector<std::string_view> parts = SplitDestinations(value);
  std::vector<Destination> dests = ParseDestinations(value);
  ASSERT_EQ(parts.size(), 4u);
  ASSERT_EQ(dests.size(), parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const NextHop hop = SplitNextHop(parts[i]);
    EXPECT_EQ(dests[i].nexthop, parts[i]);
    EXPECT_EQ(dests[i].domain, hop.host);
    EXPECT_EQ(dests[i].port, hop.port);
    EXPECT_EQ(dests[i].mx_lookup, !hop.bracketed);
  }
}

TEST(RelayValueTest, DunnoCountsOnlyAlone) {
  EXPECT_TRUE(IsValidRelayValue("DUNNO"));
  EXPECT_TRUE(IsValidRelayValue("dunno"));
  EXPECT_FALSE(IsValidRelayValue("DUNNO [a.example]"));
  EXPECT_FALSE(IsValidRelayValue(""));
}

TEST(RelayValueTest, ACredentialDoesNotLookLikeARelayValue) {
  EXPECT_TRUE(LooksLikeRelayValue("[smtp.example]:587"));
  EXPECT_FALSE(LooksLikeRelayValue("alice:secret"));
  EXPECT_FALSE(LooksLikeRelayValue("localhost"));
}

TEST(CredentialValueTest, SplitsAtTheFirstColon) {
  CredentialValue c = ParseCredentialValue("alice:pa:ss");
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, "pa:ss");
  EXPECT_FALSE(c.malformed);
  EXPECT_EQ(MaskCredential("alice:pa:ss"), "alice:****");
}

TEST(CredentialValueTest, AValueWithoutColonIsAllUsernameAndMaskedWhole) {
  CredentialValue c = ParseCredentialValue("alicesecret");
  EXPECT_EQ(c.username, "alicesecret");
  EXPECT_TRUE(c.password.empty());
  EXPECT_TRUE(c.malformed);
  EXPECT_TRUE(IsMalformedCredential("alicesecret"));
  EXPECT_EQ(MaskCredential("alicesecret"), "****");
}

TEST(CredentialValueTest, AnEmptyUsernameIsNotMalformed) {
  CredentialValue c = ParseCredentialValue(":secret");
  EXPECT_TRUE(c.username.empty());
  EXPECT_FALSE(c.malformed);
  EXPECT_EQ(MaskCredential(":secret"), ":****");
}

}  // namespace
}  // namespace mapctl
