// check_test.cc - one test per check of `mapctl check` (docs/checks.md):
// each fails when its check is removed, and a clean setup stays clean.

#include "mapctl/check.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/table.h"
#include "test_util.h"

namespace mapctl {
namespace {

class CheckTest : public ::testing::Test {
 protected:
  CheckTest() {
    config_.Set("compatibility_level", "3.6");
    config_.Set("myhostname", "localhost.localdomain");
    config_.Set("smtp_sasl_auth_enable", "yes");
    config_.Set("smtp_sender_dependent_authentication", "yes");
    options_.own_address = [](std::string_view) { return false; };
  }

  std::string Write(std::string_view name, std::string_view text,
                    unsigned mode = 0600) {
    return dir_.WriteFile(name, text, mode);
  }

  // Sources-only mode, as the --*-maps options give it.
  std::vector<Finding> Sources(const std::string& relay,
                               const std::string& passwd) {
    CheckOptions o = options_;
    o.sources_only = true;
    if (!relay.empty()) o.relay_maps = relay;
    if (!passwd.empty()) o.password_maps = passwd;
    Result<CheckReport> r = RunChecks(config_, o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? r->findings : std::vector<Finding>{};
  }

  // main.cf mode: `main_cf` is parsed with config_directory = the test dir.
  CheckReport MainCf(const std::string& main_cf) {
    std::string path = Write("main.cf", main_cf, 0644);
    MainConfig c = MainConfig::Parse(main_cf, dir_.path().string(), path);
    CheckOptions o = options_;
    o.main_cf_path = path;
    Result<CheckReport> r = RunChecks(c, o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? std::move(*r) : CheckReport{};
  }

  void Build(const std::string& source,
             DuplicatePolicy duplicates = DuplicatePolicy::kFirstWarn) {
    ParseOptions po;
    po.origin = source;
    Result<ParsedMap> parsed = ParseMapFile(source, po);
    ASSERT_TRUE(parsed.has_value());
    TableSpec spec{TableType::kLmdb, source};
    BuildOptions bo;
    bo.duplicates = duplicates;
    Result<BuildPlan> plan = PlanBuild(spec, parsed->entries(), bo, source);
    ASSERT_TRUE(plan.has_value());
    struct stat st;
    ASSERT_EQ(stat(source.c_str(), &st), 0);
    SourceFileInfo info{true, st.st_mode, st.st_uid, st.st_gid};
    ASSERT_OK(WriteTable(spec, parsed->entries(), *plan, bo, info));
  }

  // Copies: callers pass temporaries.
  static std::vector<std::shared_ptr<Finding>> Named(
      const std::vector<Finding>& all, std::string_view check) {
    std::vector<std::shared_ptr<Finding>> out;
    for (const Finding& f : all) {
      if (f.check == check) out.push_back(std::make_shared<Finding>(f));
    }
    return out;
  }

  testing::TempDir dir_;
  MainConfig config_;
  CheckOptions options_;
};

TEST_F(CheckTest, CleanSetupHasNoFindings) {
  std::string relay = Write("relay",
                            "alice@example.com [smtp.a.example]:587\n"
                            "@corp.example [smtp.b.example]:587\n");
  std::string pw = Write("pw",
                         "alice@example.com alice:secret\n"
                         "[smtp.b.example]:587 corp:secret\n"
                         "[smtp.example.net]:587 default:secret\n");
  config_.Set("relayhost", "[smtp.example.net]:587");
  std::vector<Finding> f = Sources(relay, pw);
  for (const Finding& x : f) ADD_FAILURE() << x.file << ":" << x.message;
}

TEST_F(CheckTest, RelayWithoutCredentialsIsAnErrorWhenOthersAuthenticate) {
  std::string relay = Write("relay",
                            "alice@example.com [smtp.a.example]:587\n"
                            "bob@example.com [smtp.a.example]:587\n");
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  std::vector<Finding> f = Sources(relay, pw);
  auto hits = Named(f, "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->file, relay);
  EXPECT_EQ(hits[0]->line, 2u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_EQ(*hits[0]->key, "bob@example.com");
  EXPECT_NE(hits[0]->message.find("\"[smtp.a.example]:587\""),
            std::string::npos);
  // The credential value never appears.
  EXPECT_EQ(hits[0]->message.find("secret"), std::string::npos);
}

TEST_F(CheckTest, RelayWithoutCredentialsIsAWarningWithoutEvidence) {
  std::string relay = Write("relay", "bob@example.com [smtp.a.example]:587\n");
  std::string pw = Write("pw", "[other.example]:587 x:y\n");
  auto hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
  options_.auth_required = {"[smtp.a.example]:587"};
  hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
}

TEST_F(CheckTest, MxRoutedRelayWithoutResolveIsAWarning) {
  std::string relay = Write("relay",
                            "alice@example.com mail.a.example\n"
                            "bob@example.com mail.a.example\n");
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  auto hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
  // The MX host is unknown without MX lookups: a hint the CLI words as
  // "without --resolve" (interop/check_cli.py checks those words).
  ASSERT_EQ(hits[0]->hints.size(), 1u);
  EXPECT_EQ(hits[0]->hints[0].code, HintCode::kMxUnknown);
  EXPECT_EQ(hits[0]->message.substr(hits[0]->hints[0].begin,
                                    hits[0]->hints[0].size),
            "without MX lookups");
}

TEST_F(CheckTest, SenderCredentialsOnTheDefaultRelay) {
  config_.Set("relayhost", "[smtp.example.net]:587");
  std::string relay =
      Write("relay", "alice@example.com [smtp.a.example]:587\n");
  std::string pw = Write("pw",
                         "alice@example.com alice:secret\n"
                         "dave@example.com dave:secret\n");
  auto hits = Named(Sources(relay, pw), "default-relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->line, 2u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
  // The relayhost has its own credentials, which dave's replace: an error.
  pw = Write("pw",
             "alice@example.com alice:secret\n"
             "dave@example.com dave:secret\n"
             "[smtp.example.net]:587 default:secret\n");
  hits = Named(Sources(relay, pw), "default-relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
}

TEST_F(CheckTest, DunnoRelayStillUsesSenderCredentials) {
  config_.Set("relayhost", "[smtp.example.net]:587");
  std::string relay = Write("relay",
                            "alice@example.com [smtp.a.example]:587\n"
                            "carol@example.com DUNNO\n");
  std::string pw = Write("pw",
                         "alice@example.com alice:secret\n"
                         "carol@example.com alice:secret\n");
  auto hits = Named(Sources(relay, pw), "default-relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  // Same username as a relay-map destination's: an error.
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_NE(hits[0]->message.find("DUNNO"), std::string::npos);
}

TEST_F(CheckTest, NullSender) {
  std::string relay = Write("relay",
                            "alice@example.com [smtp.a.example]:587\n"
                            "<> [smtp.a.example]:587\n");
  std::string pw = Write("pw",
                         "alice@example.com alice:secret\n"
                         "<> x:secret\n");
  auto hits = Named(Sources(relay, pw), "null-sender");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->file, pw);  // the dead credential entry
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
  EXPECT_EQ(hits[1]->file, relay);
  EXPECT_EQ(hits[1]->line, 2u);
  EXPECT_EQ(hits[1]->severity, Severity::kError);
}

TEST_F(CheckTest, BadValues) {
  std::string relay = Write("relay",
                            "a@example.com DUNNO [smtp.a.example]\n"
                            "b@example.com [smtp.a.example\n"
                            "c@example.com dunno\n");
  std::string pw = Write("pw",
                         "a@example.com justuser\n"
                         "b@example.com :nouser\n"
                         "c@example.com user:pw   # old one\n");
  auto hits = Named(Sources(relay, pw), "bad-value");
  ASSERT_EQ(hits.size(), 5u);
  for (const auto& f : hits) {
    EXPECT_EQ(f->message.find("justuser"), std::string::npos);
    EXPECT_EQ(f->message.find("old one"), std::string::npos);
  }
}

TEST_F(CheckTest, StaleTableAndBuildFlagHint) {
  std::string src = Write("relay", "alice@example.com [smtp.a.example]:587\n");
  Build(src);
  Write("relay",
        "alice@example.com [smtp.a.example]:587\n"
        "bob@example.com [smtp.a.example]:587\n");
  std::string main_cf =
      "sender_dependent_relayhost_maps = lmdb:$config_directory/relay\n";
  auto hits = Named(MainCf(main_cf).findings, "stale");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_EQ(hits[0]->line, 2u);

  // Built from this very source, duplicates and all: fresh.
  Write("relay", "a@example.com [x.example]\na@example.com [y.example]\n");
  Build(src);
  EXPECT_TRUE(Named(MainCf(main_cf).findings, "stale").empty());
  // Built with -r (the last duplicate wins): stale, with the hint.
  Build(src, DuplicatePolicy::kLast);
  hits = Named(MainCf(main_cf).findings, "stale");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0]->message.find("-r"), std::string::npos);
}

TEST_F(CheckTest, SourceWithoutTableAndTableWithoutSource) {
  Write("relay", "alice@example.com [smtp.a.example]:587\n");
  auto hits = Named(
      MainCf("sender_dependent_relayhost_maps = lmdb:$config_directory/relay\n")
          .findings,
      "stale");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  Build((dir_.path() / "relay").string());
  unlink((dir_.path() / "relay").c_str());
  hits = Named(
      MainCf("sender_dependent_relayhost_maps = lmdb:$config_directory/relay\n")
          .findings,
      "stale");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
}

TEST_F(CheckTest, MissingTable) {
  Write("sasl_passwd", "[smtp.example.net]:587 u:p\n");
  CheckReport r = MainCf(
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sasl_password_maps = lmdb:$config_directory/sender_passwd\n");
  auto hits = Named(r.findings, "missing-table");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->line, 2u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  // The founding article's mix-up: the file beside it is named.
  EXPECT_NE(hits[0]->message.find("did you mean sasl_passwd?"),
            std::string::npos)
      << hits[0]->message;
}

TEST_F(CheckTest, MissingTableSuggestsOnlyACloseName) {
  Write("virtual", "a@example.com b@example.com\n");
  Write("sender_relay.lmdb~", "");
  Write("sender_relay.bak", "");
  CheckReport r = MainCf(
      "sender_dependent_relayhost_maps = lmdb:$config_directory/sender_relay\n");
  auto hits = Named(r.findings, "missing-table");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->message.find("did you mean"), std::string::npos)
      << hits[0]->message;
  // A built table counts under its source's name.
  Write("sender_relays.lmdb", "");
  r = MainCf(
      "sender_dependent_relayhost_maps = lmdb:$config_directory/sender_relay\n");
  hits = Named(r.findings, "missing-table");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0]->message.find("did you mean sender_relays?"),
            std::string::npos)
      << hits[0]->message;
}

TEST_F(CheckTest, NotCheckedTypes) {
  auto hits = Named(Sources("cidr:/etc/postfix/relay.cidr", ""), "not-checked");
  EXPECT_FALSE(hits.empty());
}

TEST_F(CheckTest, IndexedTypeInSourcesModeIsAnError) {
  CheckOptions o;
  o.sources_only = true;
  o.relay_maps = "lmdb:/etc/postfix/relay";
  EXPECT_FALSE(RunChecks(config_, o).has_value());
}

TEST_F(CheckTest, WorldReadableCredentials) {
  Write("pw", "[smtp.example.net]:587 u:p\n", 0644);
  Build((dir_.path() / "pw").string());
  std::string main_cf =
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sasl_password_maps = lmdb:$config_directory/pw\n";
  auto hits = Named(MainCf(main_cf).findings, "world-readable");
  EXPECT_EQ(hits.size(), 2u);  // source and table
  chmod((dir_.path() / "pw").c_str(), 0600);
  chmod((dir_.path() / "pw.lmdb").c_str(), 0600);
  EXPECT_TRUE(Named(MainCf(main_cf).findings, "world-readable").empty());
}

TEST_F(CheckTest, GroupReadableCredentials) {
  struct passwd* pw = getpwnam("postfix");
  if (pw == nullptr || getuid() != 0) GTEST_SKIP() << "needs root and postfix";
  Write("pw", "[smtp.example.net]:587 u:p\n", 0640);
  Build((dir_.path() / "pw").string());
  std::string table = (dir_.path() / "pw.lmdb").string();
  gid_t other = pw->pw_gid == 0 ? 1 : 0;
  ASSERT_EQ(chown(table.c_str(), 0, other), 0);
  std::string main_cf =
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sasl_password_maps = lmdb:$config_directory/pw\n";
  EXPECT_EQ(Named(MainCf(main_cf).findings, "group-readable").size(), 1u);
  ASSERT_EQ(chown(table.c_str(), 0, pw->pw_gid), 0);
  EXPECT_TRUE(Named(MainCf(main_cf).findings, "group-readable").empty());
}

TEST_F(CheckTest, DomainFallThroughNamesTheKeyedAddresses) {
  std::string relay = Write("relay",
                            "@corp.example [smtp.c.example]:587\n"
                            "ann@corp.example [smtp.c.example]:587\n");
  std::string pw = Write("pw", "ann@corp.example ann:secret\n");
  std::vector<Finding> f = Sources(relay, pw);
  auto hits = Named(f, "domain-fallthrough");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->line, 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);  // check 1's severity
  EXPECT_NE(hits[0]->message.find("ann@corp.example"), std::string::npos);
  EXPECT_TRUE(Named(f, "relay-credentials").empty());  // never a second one
}

TEST_F(CheckTest, KeyFormat) {
  std::string relay = Write("relay",
                            "bob@example.com [smtp.a.example]\n"
                            "Bob@example.com [smtp.a.example]\n"
                            "bob@example.com [smtp.a.example]\n"
                            "carol@example.com: [smtp.a.example]\n");
  auto hits = Named(Sources(relay, ""), "key-format");
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_NE(hits[0]->message.find("collides"), std::string::npos);
  EXPECT_NE(hits[1]->message.find("duplicate"), std::string::npos);
  EXPECT_EQ(hits[2]->line, 4u);
}

TEST_F(CheckTest, Syntax) {
  std::string relay = Write("relay",
                            " leading@example.com [x.example]\n"
                            "\"open@example.com [x.example]\n");
  EXPECT_FALSE(Named(Sources(relay, ""), "syntax").empty());
}

TEST_F(CheckTest, AuthDisabled) {
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  config_.Set("smtp_sender_dependent_authentication", "no");
  EXPECT_EQ(Named(Sources("", pw), "auth-disabled").size(), 1u);
  config_.Set("smtp_sasl_auth_enable", "no");
  EXPECT_EQ(Named(Sources("", pw), "auth-disabled").size(), 1u);
}

// The founding article's mistake: per-sender credentials while
// smtp_sender_dependent_authentication = no. Postfix sends no AUTH to the
// relay the sender map names and the relay answers 530.
TEST_F(CheckTest, SenderCredentialsIgnoredBySenderDependentAuthAreABounce) {
  std::string relay =
      Write("relay", "patches@example.com [email-smtp.example.com]:587\n");
  std::string pw = Write("pw", "patches@example.com AKIA:secret\n");
  config_.Set("smtp_sender_dependent_authentication", "no");
  std::vector<Finding> f = Sources(relay, pw);
  auto hits = Named(f, "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_EQ(hits[0]->file, relay);
  EXPECT_EQ(hits[0]->line, 1u);
  EXPECT_NE(hits[0]->message.find(pw + ":1"), std::string::npos);
  EXPECT_NE(hits[0]->message.find("530"), std::string::npos);
  EXPECT_NE(hits[0]->message.find("smtp_sender_dependent_authentication = yes"),
            std::string::npos);
  EXPECT_EQ(hits[0]->message.find("secret"), std::string::npos);
  // A next-hop entry for the relay is used either way: no bounce.
  std::string pw2 = Write("pw2",
                          "patches@example.com AKIA:secret\n"
                          "[email-smtp.example.com]:587 AKIA:secret\n");
  EXPECT_TRUE(Named(Sources(relay, pw2), "relay-credentials").empty());
  // Another sender's ignored entry (mail to its recipients' MX) says
  // nothing about this relay: a warning, as without any evidence.
  std::string other = Write("pw3", "nobody@example.com n:secret\n");
  hits = Named(Sources(relay, other), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
}

TEST_F(CheckTest, SenderCredentialsOnRelayhostIgnoredAreABounce) {
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  config_.Set("relayhost", "[smtp.example.net]:587");
  config_.Set("smtp_sender_dependent_authentication", "no");
  auto hits = Named(Sources("", pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_NE(hits[0]->message.find("relayhost"), std::string::npos);
  // Without a relayhost the sender's mail goes to the recipient's MX.
  config_.Set("relayhost", "");
  EXPECT_TRUE(Named(Sources("", pw), "relay-credentials").empty());
}

TEST_F(CheckTest, CredentialsWithSaslAuthDisabledAreABounce) {
  std::string relay = Write("relay", "alice@example.com [smtp.a.example]:587\n");
  std::string pw = Write("pw",
                         "alice@example.com alice:secret\n"
                         "[smtp.example.net]:587 relay:secret\n");
  config_.Set("relayhost", "[smtp.example.net]:587");
  config_.Set("smtp_sasl_auth_enable", "no");
  auto hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 2u);  // alice, and everyone else on relayhost
  for (const auto& h : hits) {
    EXPECT_EQ(h->severity, Severity::kError);
    EXPECT_NE(h->message.find("smtp_sasl_auth_enable = yes"), std::string::npos);
  }
  config_.Set("smtp_sasl_auth_enable", "yes");
  EXPECT_TRUE(Named(Sources(relay, pw), "relay-credentials").empty());
}

TEST_F(CheckTest, NullSenderCredentialsAreABounceOnARelay) {
  std::string pw = Write("pw", "<> bounces:secret\n");
  config_.Set("relayhost", "[smtp.example.net]:587");
  auto hits = Named(Sources("", pw), "null-sender");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);  // main.cf: relayhost
  EXPECT_NE(hits[0]->message.find("530"), std::string::npos);
  EXPECT_EQ(hits[1]->severity, Severity::kWarning);  // the dead entry
  // To the recipient's MX, the entry is only dead.
  config_.Set("relayhost", "");
  hits = Named(Sources("", pw), "null-sender");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kWarning);
}

// Pattern tables cannot be listed: their rules are judged through the
// senders that reach them (the other maps' keys and --senders), and a rule
// none reaches is said so.
TEST_F(CheckTest, PatternRulesAreJudgedThroughTheSendersThatReachThem) {
  std::string pcre = Write("relay.pcre",
                           "# tenants\n"
                           "/@tenant7\\.example\\.com$/ [smtp.a.example]:587\n"
                           "if /^a/\n"
                           "/^alice@example\\.com$/ [smtp.a.example]:587\n"
                           "endif\n");
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  const std::string relay = "pcre:" + pcre;
  std::vector<Finding> f = Sources(relay, pw);
  auto idle = Named(f, "not-exercised");
  ASSERT_EQ(idle.size(), 1u);  // alice's rule is reached by her key
  EXPECT_EQ(idle[0]->file, pcre);
  EXPECT_EQ(idle[0]->line, 2u);
  EXPECT_EQ(idle[0]->severity, Severity::kWarning);
  EXPECT_NE(idle[0]->message.find("--senders"), std::string::npos);
  EXPECT_TRUE(Named(f, "relay-credentials").empty());
  EXPECT_TRUE(Named(f, "not-checked").empty());

  // A sender that reaches the tenant rule: its gateway gets no
  // credentials while alice authenticates there, an error at the rule.
  options_.senders = {"u@tenant7.example.com"};
  f = Sources(relay, pw);
  EXPECT_TRUE(Named(f, "not-exercised").empty());
  auto hits = Named(f, "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_EQ(hits[0]->file, pcre);
  EXPECT_EQ(hits[0]->line, 2u);
  EXPECT_NE(hits[0]->message.find("u@tenant7.example.com"), std::string::npos);
}

TEST_F(CheckTest, APatternTablePostfixCannotOpenOrPartlySkipsIsReported) {
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  auto hits = Named(Sources("pcre:" + dir_.path().string() + "/relay.pcr", pw),
                    "missing-table");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  std::string pcre = Write("bad.pcre",
                           "/^alice@example\\.com$/ [smtp.a.example]:587\n"
                           "/(unclosed [smtp.b.example]:587\n");
  std::vector<Finding> f = Sources("pcre:" + pcre, pw);
  auto syntax = Named(f, "syntax");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_EQ(syntax[0]->file, pcre);
  EXPECT_EQ(syntax[0]->line, 2u);
  EXPECT_EQ(syntax[0]->message.find("smtp.b.example"), std::string::npos);
  // The skipped rule is not also "not exercised".
  EXPECT_TRUE(Named(f, "not-exercised").empty());
}

TEST_F(CheckTest, GivenSendersAreResolvedForIndexedMapsToo) {
  std::string relay = Write("relay", "@corp.example [smtp.c.example]:587\n");
  std::string pw = Write("pw", "ann@corp.example ann:secret\n");
  // ann's own entry: clean. A given sender of the domain without one has
  // no credentials where ann authenticates.
  options_.senders = {"ann@corp.example", "<>", "bo@corp.example"};
  auto hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_FALSE(hits.empty());
  bool named = false;
  for (const auto& h : hits) named |= h->message.find("bo@corp.example") != std::string::npos;
  EXPECT_TRUE(named);
}

// SQL tables cannot be listed either: they are judged through the senders
// that reach them, and a database that cannot answer makes the run
// incomplete (trouble, exit 2), never a pass.
class SqlCheckTest : public CheckTest {
 protected:
  void SetUp() override {
#ifndef MAPCTL_HAVE_SQLITE
    GTEST_SKIP() << "built without sqlite";
#endif
    db_ = dir_.path().string() + "/relay.db";
    const std::string sql =
        "sqlite3 " + db_ +
        " \"create table r(k text, v text); insert into r values"
        "('alice@example.com','[smtp.a.example]:587'),"
        "('@corp.example','[smtp.a.example]:587');\"";
    ASSERT_EQ(std::system(sql.c_str()), 0) << "the sqlite3 program is needed";
  }
  std::string Cf(const std::string& name, const std::string& extra,
                 unsigned mode = 0640) {
    return Write(name,
                 "dbpath = " + db_ + "\nquery = SELECT v FROM r WHERE k='%s'\n" +
                     extra,
                 mode);
  }
  std::string db_;
};

TEST_F(SqlCheckTest, SqlRelayMapIsJudgedThroughTheSendersThatReachIt) {
  const std::string relay = "sqlite:" + Cf("relay.cf", "");
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  std::vector<Finding> f = Sources(relay, pw);
  EXPECT_TRUE(Named(f, "not-checked").empty());
  EXPECT_TRUE(Named(f, "relay-credentials").empty());
  options_.senders = {"bo@corp.example"};
  auto hits = Named(Sources(relay, pw), "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);  // alice authenticates there
  EXPECT_NE(hits[0]->message.find("bo@corp.example"), std::string::npos);
}

// "sqlite:NAME" reads NAME_* from main.cf; a parameter main.cf lacks but
// Set() gives (mapctl's --set NAME_query=...) counts as a main.cf edit
// would, as it does for query sender.
TEST_F(SqlCheckTest, SetGivesTheMainCfFormItsMissingParameters) {
  Write("pw", "alice@example.com alice:secret\n");
  const std::string text =
      "compatibility_level = 3.6\n"
      "sender_dependent_relayhost_maps = sqlite:sqlrelay\n"
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sender_dependent_authentication = yes\n"
      "smtp_sasl_password_maps = texthash:$config_directory/pw\n"
      "sqlrelay_dbpath = " +
      db_ + "\n";
  const std::string path = Write("main.cf", text, 0644);
  MainConfig c = MainConfig::Parse(text, dir_.path().string(), path);
  CheckOptions o = options_;
  o.main_cf_path = path;
  o.senders = {"bo@corp.example"};
  // No query and no legacy table/select_field: the table cannot open.
  Result<CheckReport> r = RunChecks(c, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_FALSE(r->trouble.empty());
  EXPECT_TRUE(Named(r->findings, "relay-credentials").empty());

  c.Set("sqlrelay_query", "SELECT v FROM r WHERE k='%s'");
  r = RunChecks(c, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->trouble.empty())
      << (r->trouble.empty() ? "" : r->trouble[0].ToString());
  auto hits = Named(r->findings, "relay-credentials");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0]->message.find("bo@corp.example"), std::string::npos);

  // An added domain list keeps corp.example's keys from being asked.
  c.Set("sqlrelay_domain", "example.com");
  r = RunChecks(c, o);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(Named(r->findings, "relay-credentials").empty());
}

TEST_F(SqlCheckTest, ADatabaseThatCannotAnswerIsTroubleNeverAPass) {
  const std::string cf =
      Write("relay.cf", "dbpath = " + dir_.path().string() +
                            "/no-such.db\nquery = SELECT v FROM r WHERE k='%s'\n");
  std::string pw = Write("pw", "alice@example.com alice:secret\n");
  CheckOptions o = options_;
  o.sources_only = true;
  o.relay_maps = "sqlite:" + cf;
  o.password_maps = pw;
  Result<CheckReport> r = RunChecks(config_, o);
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->trouble.empty());
  EXPECT_NE(r->trouble[0].message().find("no-such.db"), std::string::npos)
      << r->trouble[0].message();
}

TEST_F(SqlCheckTest, AConfigFileWithAPasswordMustNotBeWorldReadable) {
  Cf("relay.cf", "password = hunter2\n", 0644);
  Write("pw", "alice@example.com alice:secret\n");
  CheckReport r = MainCf(
      "sender_dependent_relayhost_maps = sqlite:$config_directory/relay.cf\n"
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sasl_password_maps = texthash:$config_directory/pw\n");
  auto hits = Named(r.findings, "world-readable");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->line, 3u);  // the password line
  EXPECT_EQ(hits[0]->message.find("hunter2"), std::string::npos);
  // A missing one is missing-table, as Postfix cannot open the table.
  r = MainCf(
      "sender_dependent_relayhost_maps = sqlite:$config_directory/relay.cg\n");
  hits = Named(r.findings, "missing-table");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0]->message.find("did you mean relay.cf?"), std::string::npos)
      << hits[0]->message;
  EXPECT_TRUE(r.trouble.empty());
}

TEST_F(SqlCheckTest, AProxyTableProxyReadMapsDoesNotListIsAnError) {
  Cf("relay.cf", "");
  const std::string main_cf =
      "sender_dependent_relayhost_maps = proxy:sqlite:$config_directory/relay.cf\n";
  // The default of proxy_read_maps names the parameter: approved.
  CheckReport r = MainCf(main_cf);
  EXPECT_TRUE(Named(r.findings, "proxy-read-maps").empty());
  r = MainCf(main_cf + "proxy_read_maps = $smtp_sasl_password_maps\n");
  auto hits = Named(r.findings, "proxy-read-maps");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]->severity, Severity::kError);
  EXPECT_EQ(hits[0]->line, 1u);
}

TEST_F(CheckTest, PlaintextAuth) {
  config_.Set("relayhost", "[smtp.example.net]:587");
  std::string pw = Write("pw", "[smtp.example.net]:587 u:secret\n");
  EXPECT_TRUE(Named(Sources("", pw), "plaintext-auth").empty());  // default
  config_.Set("smtp_sasl_security_options", "noanonymous");
  config_.Set("smtp_tls_security_level", "may");
  EXPECT_EQ(Named(Sources("", pw), "plaintext-auth").size(), 1u);
  config_.Set("smtp_tls_security_level", "encrypt");
  EXPECT_TRUE(Named(Sources("", pw), "plaintext-auth").empty());
  // The policy map, looked up by the exact next-hop spelling, wins.
  config_.Set("smtp_tls_policy_maps",
              "inline:{ {[smtp.example.net]:587 = may} }");
  EXPECT_EQ(Named(Sources("", pw), "plaintext-auth").size(), 1u);
}

// relayhost's next hop and domain are host keys of the credential map, not
// bare senders. Under ASan this failed with a heap-use-after-free: the
// value was parsed from a temporary string that had already died (the
// name is long enough to live on the heap).
TEST_F(CheckTest, ACredentialKeyNamingTheRelayhostIsNotASender) {
  const std::string host = "relayhostwithoutanydotsinitsname";
  config_.Set("relayhost", host);
  std::string pw = Write("pw", host + " default:secret\n");
  std::vector<Finding> f = Sources("", pw);
  for (const Finding& x : f) ADD_FAILURE() << x.check << ": " << x.message;
}

TEST_F(CheckTest, BerkeleyDbReferences) {
  CheckReport r = MainCf(
      "virtual_alias_maps = hash:$config_directory/virtual\n"
      "alias_maps = hash:/etc/aliases\n");
  auto hits = Named(r.findings, "berkeley-db");
  ASSERT_EQ(hits.size(), 2u);
  // The remedy is a hint the CLI words as "convert with: mapctl convert
  // TABLE lmdb:" (interop/check_cli.py checks those words).
  ASSERT_EQ(hits[0]->hints.size(), 1u);
  EXPECT_EQ(hits[0]->hints[0].code, HintCode::kConvertTable);
  ASSERT_TRUE(hits[0]->key);
  EXPECT_EQ(hits[0]->key->substr(0, 5), "hash:");
  EXPECT_EQ(hits[0]->hints[0].begin + hits[0]->hints[0].size,
            hits[0]->message.size());
}

TEST_F(CheckTest, ScopeWarningStopsRelayChecks) {
  std::string relay = Write("relay", "bob@example.com [smtp.a.example]:587\n");
  std::string pw = Write("pw", "[other.example]:587 x:y\n");
  config_.Set("transport_maps", "lmdb:/etc/postfix/transport");
  std::vector<Finding> f = Sources(relay, pw);
  EXPECT_FALSE(Named(f, "scope").empty());
  EXPECT_TRUE(Named(f, "relay-credentials").empty());
}

TEST_F(CheckTest, DisabledChecksAreNotReported) {
  std::string relay = Write("relay", "bob@example.com [smtp.a.example]:587\n");
  options_.disabled.insert("relay-credentials");
  EXPECT_TRUE(Named(Sources(relay, ""), "relay-credentials").empty());
}

// Senders resolved on several threads give the findings one thread
// gives, in the same order: built lmdb tables (read from memory by the
// threads, from the files by one) and sources-only mode.
TEST_F(CheckTest, ThreadsGiveTheSameFindings) {
  std::string relay_text, pw_text;
  for (int i = 0; i < 3000; ++i) {
    const std::string n = std::to_string(i);
    const std::string user =
        "user" + n + "@d" + std::to_string(i % 7) + ".example";
    const std::string hop = "[smtp" + std::to_string(i % 13) + ".example]:587";
    switch (i % 10) {
      case 0:  // relay, no credentials (relay-credentials)
        relay_text += user + " " + hop + "\n";
        break;
      case 1:  // credentials only: they go to the relayhost
        pw_text += user + " u" + n + ":p\n";
        break;
      case 2:  // an unusable relay value, a credential without ':'
        relay_text += user + " not/a/hop\n";
        pw_text += user + " nocolon\n";
        break;
      case 3:  // a domain key that falls through
        relay_text += "@sub" + n + ".example " + hop + "\n";
        break;
      case 4:  // a duplicate key in the source
        relay_text += user + " " + hop + "\n" + user + " " + hop + "\n";
        pw_text += user + " u" + n + ":p\n";
        break;
      case 5:  // DUNNO
        relay_text += user + " DUNNO\n";
        pw_text += user + " u" + n + ":p # note\n";
        break;
      default:  // relay and credentials
        relay_text += user + " " + hop + "\n";
        pw_text += user + " u" + std::to_string(i % 50) + ":p\n";
    }
  }
  // A next hop longer than an LMDB key: the threads hand the run back to
  // one thread, which reads the files.
  relay_text += "long@example.org [" + std::string(600, 'h') + "]:587\n";
  relay_text += "<> [smtp1.example]:587\n";
  pw_text += "<> x:y\n[smtp2.example]:587 host:secret\n";
  std::string relay = Write("relay", relay_text);
  std::string pw = Write("pw", pw_text);
  Build(relay);
  Build(pw);
  const std::string main_cf =
      "compatibility_level = 3.6\n"
      "myhostname = localhost.localdomain\n"
      "relayhost = [smtp.example.net]:587\n"
      "sender_dependent_relayhost_maps = lmdb:" +
      relay +
      "\n"
      "smtp_sasl_auth_enable = yes\n"
      "smtp_sender_dependent_authentication = yes\n"
      "smtp_sasl_password_maps = lmdb:" +
      pw + "\n";
  auto text = [](const std::vector<Finding>& f) {
    std::vector<std::string> out;
    for (const Finding& x : f) {
      out.push_back(x.file + ":" + std::to_string(x.line) + ":" +
                    (x.severity == Severity::kError ? "E" : "W") + ":" +
                    x.check + ":" + x.key.value_or("-") + ":" + x.message);
    }
    return out;
  };
  options_.threads = 1;
  std::vector<std::string> one = text(MainCf(main_cf).findings);
  std::vector<std::string> one_sources = text(Sources(relay, pw));
  std::set<std::string> checks;
  for (const std::string& line : one) {
    std::size_t a = line.find(':', line.find(':', line.find(':') + 1) + 1);
    checks.insert(line.substr(a + 1, line.find(':', a + 1) - a - 1));
  }
  EXPECT_GE(checks.size(), 6u) << ::testing::PrintToString(checks);
  EXPECT_GT(one.size(), 1000u);
  for (unsigned threads : {2u, 3u, 0u}) {
    options_.threads = threads;
    EXPECT_EQ(text(MainCf(main_cf).findings), one) << threads;
    EXPECT_EQ(text(Sources(relay, pw)), one_sources) << threads;
  }
  // Without the long next hop the threads finish the run themselves.
  relay_text.erase(relay_text.find("long@"));
  relay_text += "<> [smtp1.example]:587\n";
  Write("relay", relay_text);
  Build(relay);
  options_.threads = 1;
  one = text(MainCf(main_cf).findings);
  options_.threads = 2;
  EXPECT_EQ(text(MainCf(main_cf).findings), one);
}

TEST(MapSourcePathTest, MapsEtcPostfixToTheRepository) {
  EXPECT_EQ(MapSourcePath("proxy:lmdb:/etc/postfix/sasl_passwd", "repo/pf"),
            "repo/pf/sasl_passwd");
  EXPECT_EQ(MapSourcePath("hash:/etc/postfix/x.db", "repo/pf/"), "repo/pf/x");
  EXPECT_EQ(MapSourcePath("lmdb:/srv/maps/x", "repo"), "/srv/maps/x");
}

}  // namespace
}  // namespace mapctl
