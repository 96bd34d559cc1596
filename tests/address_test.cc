// address_test.cc - quoting, sendmail -f parsing, local rewriting and the
// mail_addr_find key order (Postfix 3.7, spec §6).

#include "mapctl/address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapctl/config.h"
#include "test_util.h"

namespace mapctl {
namespace {

TEST(AddressTest, ExternalFormQuotesLikeQuote822Local) {
  // Spec §6.1 table.
  EXPECT_EQ(ExternalForm("a b@example.org"), "\"a b\"@example.org");
  EXPECT_EQ(ExternalForm("a@b@localhost.localdomain"),
            "\"a@b\"@localhost.localdomain");
  EXPECT_EQ(ExternalForm("user.name.@example.com"),
            "\"user.name.\"@example.com");
  EXPECT_EQ(ExternalForm("<>"), "\"<>\"");
  EXPECT_EQ(ExternalForm("\xC3\xBC@example.com"), "\xC3\xBC@example.com");
  EXPECT_EQ(ExternalForm("a..b@x"), "\"a..b\"@x");
  EXPECT_EQ(ExternalForm(""), "\"\"");
  EXPECT_EQ(ExternalForm("a\"b\\c@x"), "\"a\\\"b\\\\c\"@x");
  EXPECT_EQ(ExternalForm("a@b", /*bare_localpart=*/true), "\"a@b\"");
  EXPECT_EQ(ExternalForm("plain@x"), "plain@x");
}

TEST(AddressTest, InternalFormUnquotesUpToLastBareAt) {
  EXPECT_EQ(InternalForm("\"a b\"@example.org"), "a b@example.org");
  EXPECT_EQ(InternalForm("\"a@b\"@x"), "a@b@x");
  EXPECT_EQ(InternalForm("\"a\\\"b\"@x"), "a\"b@x");
  EXPECT_EQ(InternalForm("plain@x"), "plain@x");
}

TEST(AddressTest, SendmailSenderForms) {
  bool several = false;
  auto p = [&](std::string_view s) {
    Result<std::string> r = ParseSendmailSender(s, &several);
    EXPECT_TRUE(r.has_value()) << s;
    return r ? *r : std::string("<error>");
  };
  EXPECT_EQ(p("user@example.com"), "user@example.com");
  EXPECT_EQ(p("<user@example.com>"), "user@example.com");
  EXPECT_EQ(p("Joe User <user@example.com>"), "user@example.com");
  EXPECT_EQ(p("user@example.com (Joe)"), "user@example.com");
  EXPECT_EQ(p("\"a b\"@example.org"), "a b@example.org");
  EXPECT_EQ(p("<>"), "");
  EXPECT_EQ(p(""), "");
  EXPECT_FALSE(several);
  EXPECT_EQ(p("a@x, b@y"), "a@x");
  EXPECT_TRUE(several);
  // Two adjacent words start a new address (tok822_parse).
  EXPECT_EQ(p("a b@x"), "a");
  EXPECT_TRUE(several);
}

TEST(AddressTest, SendmailSenderRejectsBadInput) {
  bool several;
  EXPECT_FALSE(ParseSendmailSender(std::string(100 * 1024, 'a'), &several));
  EXPECT_FALSE(ParseSendmailSender("a\x80@x", &several));
  EXPECT_FALSE(ParseSendmailSender("a\r\n@x", &several));
  EXPECT_FALSE(ParseSendmailSender("\"abc@x", &several));
  EXPECT_FALSE(ParseSendmailSender("<abc@x", &several));
  EXPECT_FALSE(ParseSendmailSender("abc@x>", &several));
  EXPECT_FALSE(ParseSendmailSender("a(b@x", &several));
  EXPECT_FALSE(ParseSendmailSender("a@[1.2.3.4", &several));
  EXPECT_FALSE(ParseSendmailSender("abc\\", &several));
  Result<std::string> r = ParseSendmailSender("\"x", &several);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

AddressRewriteOptions Rw() {
  AddressRewriteOptions o;
  o.myorigin = "local.test";
  o.mydomain = "local.test";
  return o;
}

TEST(AddressTest, LocalRewritingFollowsRewriteC) {
  AddressRewriteOptions o = Rw();
  EXPECT_EQ(RewriteLocalAddress("user", o), "user@local.test");
  EXPECT_EQ(RewriteLocalAddress("site!user", o), "user@site");
  EXPECT_EQ(RewriteLocalAddress("a!b!user", o), "b!user@a");
  EXPECT_EQ(RewriteLocalAddress("user%site", o), "user@site");
  EXPECT_EQ(RewriteLocalAddress("user@example.com.", o), "user@example.com");
  EXPECT_EQ(RewriteLocalAddress("user@example..", o), "user@example..");
  EXPECT_EQ(RewriteLocalAddress("@a,@b:user@c", o), "user@c");
  EXPECT_EQ(RewriteLocalAddress("a b", o), "a b@local.test");
  EXPECT_EQ(RewriteLocalAddress("", o), "");
  EXPECT_EQ(RewriteLocalAddress("user@host", o), "user@host");
  o.append_dot_mydomain = true;
  EXPECT_EQ(RewriteLocalAddress("user@host", o), "user@host.local.test");
  EXPECT_EQ(RewriteLocalAddress("user@[1.2.3.4]", o), "user@[1.2.3.4]");
  o.swap_bangpath = false;
  o.allow_percent_hack = false;
  o.append_at_myorigin = false;
  EXPECT_EQ(RewriteLocalAddress("site!user", o), "site!user");
  EXPECT_EQ(RewriteLocalAddress("user%site", o), "user%site");
}

// Plain addresses take a shortcut past the parser and the rewriting; it
// must give what the full path gives. Near-misses must not take it.
TEST(AddressTest, PlainAddressesStayAsTheyAre) {
  AddressRewriteOptions o = Rw();
  for (std::string_view in :
       {"user.name+tag@Sub.Example.COM", "a_b=c-d@x.example", "x@a.b"}) {
    Result<CanonicalSender> s = CanonicalizeSender(in, o);
    ASSERT_TRUE(s) << in;
    EXPECT_EQ(s->internal, in);
    EXPECT_EQ(s->external, in);
    EXPECT_FALSE(s->null_sender);
    Result<std::string> parsed = ParseSendmailSender(in, nullptr);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(RewriteLocalAddress(*parsed, o), in) << in;
  }
  struct Case {
    std::string_view in, internal;
  };
  for (const Case& c : {Case{"user@local.test.", "user@local.test"},
                        Case{"site!user@x.example", "site!user@x.example"},
                        Case{"user@host", "user@host"},
                        Case{"a..b@x.example", "a..b@x.example"}}) {
    Result<CanonicalSender> s = CanonicalizeSender(c.in, o);
    ASSERT_TRUE(s) << c.in;
    EXPECT_EQ(s->internal, c.internal) << c.in;
  }
  Result<CanonicalSender> dotted = CanonicalizeSender("a..b@x.example", o);
  ASSERT_TRUE(dotted);
  EXPECT_EQ(dotted->external, "\"a..b\"@x.example");
  Result<CanonicalSender> md = CanonicalizeSender("Mailer-Daemon@local.test", o);
  ASSERT_TRUE(md);
  EXPECT_TRUE(md->null_sender);
}

TEST(AddressTest, MailerDaemonBecomesNullSender) {
  AddressRewriteOptions o = Rw();
  for (std::string_view in : {"MAILER-DAEMON", "mailer-daemon@LOCAL.TEST",
                              "<MAILER-DAEMON@local.test>", "<>", ""}) {
    Result<CanonicalSender> s = CanonicalizeSender(in, o);
    ASSERT_TRUE(s) << in;
    EXPECT_TRUE(s->null_sender) << in;
    EXPECT_EQ(s->external, "<>");
  }
  Result<CanonicalSender> s = CanonicalizeSender("MAILER-DAEMON@other.test", o);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->null_sender);
}

TEST(AddressTest, MyoriginFileUsesFirstLine) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("mailname", "  mail.example.org \nx\n");
  Result<std::string> r = ResolveMyorigin(path, ReadTextFile);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "mail.example.org");
  EXPECT_FALSE(ResolveMyorigin(path + ".missing", ReadTextFile));
  EXPECT_EQ(*ResolveMyorigin("plain.example", nullptr), "plain.example");
  FileReader fake = [](const std::string&) -> Result<std::string> {
    return std::string("fake.example\n");
  };
  MainConfig config;
  config.Set("myorigin", "/etc/mailname");
  Result<AddressRewriteOptions> o = RewriteOptionsFromConfig(config, fake);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->myorigin, "fake.example");
}

TEST(AddressTest, SplitExtensionRules) {
  ExtensionOptions o;
  o.recipient_delimiter = "+-";
  std::string base, ext;
  ASSERT_TRUE(SplitExtension("user-foo+bar@example.com", o, &base, &ext));
  EXPECT_EQ(base, "user@example.com");
  EXPECT_EQ(ext, "-foo+bar");
  EXPECT_FALSE(SplitExtension("owner-list+x@example.com", o, &base, &ext));
  EXPECT_FALSE(SplitExtension("list-request@example.com", o, &base, &ext));
  EXPECT_FALSE(SplitExtension("postmaster@example.com", o, &base, &ext));
  EXPECT_TRUE(SplitExtension("postmaster+x@example.com", o, &base, &ext));
  EXPECT_FALSE(SplitExtension("-user@example.com", o, &base, &ext));
  EXPECT_FALSE(SplitExtension("Double-Bounce@example.com", o, &base, &ext));
  EXPECT_FALSE(SplitExtension("user@ex-ample.com", o, &base, &ext));
  o.owner_request_special = false;
  EXPECT_TRUE(SplitExtension("owner-list@example.com", o, &base, &ext));
  EXPECT_EQ(base, "owner@example.com");
  o.recipient_delimiter = "";
  EXPECT_FALSE(SplitExtension("a+b@x", o, &base, &ext));
}

std::vector<std::string> Keys(std::string_view addr,
                              const SenderKeyOptions& o) {
  SenderKeys k;
  k.Build(addr, o);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < k.size(); ++i) out.push_back(k[i].key);
  return out;
}

using V = std::vector<std::string>;

TEST(AddressTest, KeyOrderMatchesObservedTraces) {
  // Spec §6.4, config tr/.
  LocalDomainMatcher local("local.test",
                           "mx.local.test, localhost.local.test, localhost",
                           "all", "");
  SenderKeyOptions o;
  o.extension.recipient_delimiter = "+";
  o.local = &local;
  EXPECT_EQ(Keys("user+foo@example.com", o),
            (V{"user+foo@example.com", "user@example.com", "@example.com"}));
  EXPECT_EQ(Keys("a b+zz@example.org", o),
            (V{"\"a b+zz\"@example.org", "a b+zz@example.org",
               "\"a b\"@example.org", "a b@example.org", "@example.org"}));
  EXPECT_EQ(Keys("localuser+x@mx.local.test", o),
            (V{"localuser+x@mx.local.test", "localuser@mx.local.test",
               "localuser+x", "localuser", "@mx.local.test"}));
  EXPECT_EQ(Keys("<>", o), (V{"\"<>\"", "<>"}));
  EXPECT_EQ(Keys("", o), V{});
  // resolve_local.c drops one trailing dot; the $myorigin test does not.
  EXPECT_EQ(Keys("x@MX.LOCAL.TEST.", o),
            (V{"x@MX.LOCAL.TEST.", "x", "@MX.LOCAL.TEST."}));
  EXPECT_EQ(Keys("x@LOCAL.TEST.", o), (V{"x@LOCAL.TEST.", "@LOCAL.TEST."}));
  EXPECT_EQ(Keys("x@Local.Test", o), (V{"x@Local.Test", "x", "@Local.Test"}));
  EXPECT_EQ(Keys("a@b@localhost", o), (V{"\"a@b\"@localhost", "a@b@localhost",
                                         "\"a@b\"", "a@b", "@localhost"}));
}

TEST(AddressTest, LocalDomainMatcher) {
  LocalDomainMatcher m("origin.test", "a.test, !b.test, b.test hash:/x /f",
                       "192.0.2.1", "2001:db8::1");
  EXPECT_TRUE(m.IsLocal("origin.test"));
  EXPECT_TRUE(m.IsLocal("A.TEST."));
  EXPECT_FALSE(m.IsLocal("a.test.."));
  EXPECT_FALSE(m.IsLocal("b.test"));
  EXPECT_FALSE(m.IsLocal("sub.a.test"));
  EXPECT_TRUE(m.IsLocal("[192.0.2.1]"));
  EXPECT_FALSE(m.IsLocal("[192.0.2.2]"));
  EXPECT_TRUE(m.IsLocal("[IPv6:2001:DB8::1]"));
  EXPECT_EQ(m.unevaluated().size(), 2u);
  EXPECT_FALSE(m.interfaces_unknown());
  LocalDomainMatcher all("o", "", "all", "");
  EXPECT_TRUE(all.interfaces_unknown());
  EXPECT_TRUE(all.IsLocal("[127.0.0.1]"));
  EXPECT_TRUE(all.IsLocal("[IPv6:::1]"));
}

}  // namespace
}  // namespace mapctl
