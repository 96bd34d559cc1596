// sender_lookup_test.cc - relay and credential resolution against the
// traces observed with Postfix 3.7.11's trivial-rewrite and smtp (spec
// §6.4, §6.8, §7.1).

#include <gtest/gtest.h>

#include <cstdlib>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/sender.h"
#include "test_util.h"

namespace mapctl {
namespace {

using testing::FakeData;
using testing::FakeReader;

class SenderLookupTest : public ::testing::Test {
 protected:
  SenderLookupTest() {
    // Spec §6.4 config tr/.
    config_.Set("compatibility_level", "3.6");
    config_.Set("myorigin", "local.test");
    config_.Set("mydestination",
                "mx.local.test, localhost.local.test, localhost");
    config_.Set("recipient_delimiter", "+");
    config_.Set("relayhost", "[default.relay.test]:587");
    config_.Set("sender_dependent_relayhost_maps", "lmdb:/relay");
  }

  void Put(const std::string& table, std::string k, std::string v) {
    tables_[table].raw[k + std::string(1, '\0')] = v + std::string(1, '\0');
  }

  std::unique_ptr<SenderResolver> Make() {
    SenderResolverOptions o;
    o.open = [this](
                 const TableSpec& spec,
                 const OpenOptions&) -> Result<std::unique_ptr<TableReader>> {
      auto it = tables_.find(spec.ToString());
      if (it == tables_.end()) {
        return Status::IoError("open " + spec.FileName(), ENOENT);
      }
      return std::unique_ptr<TableReader>(new FakeReader(spec, &it->second));
    };
    o.resolve_mx = resolve_mx_;
    o.master_cf = master_cf_;
    Result<std::unique_ptr<SenderResolver>> r =
        SenderResolver::Create(config_, o);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? std::move(*r) : nullptr;
  }

  SenderResolution Resolve(std::string_view addr, std::string_view rcpt = "") {
    if (!resolver_) resolver_ = Make();
    SenderResolution out;
    Status s = resolver_->Resolve(addr, rcpt, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    resolver_->EndBatch();
    return out;
  }

  static std::vector<std::string> Tried(const SenderResolution& r,
                                        SearchKind kind) {
    std::vector<std::string> out;
    for (const TriedKey& t : r.tried) {
      if (t.search == kind) out.push_back(t.key);
    }
    return out;
  }

  static bool HasWarning(const SenderResolution& r, std::string_view code) {
    for (const Warning& w : r.warnings) {
      if (w.code == code) return true;
    }
    return false;
  }

  MainConfig config_;
  std::map<std::string, FakeData> tables_;
  std::unique_ptr<SenderResolver> resolver_;
  MxResolver resolve_mx_;
  std::string master_cf_;
};

using V = std::vector<std::string>;

TEST_F(SenderLookupTest, RelayTraceMatchesTrivialRewrite) {
  Put("lmdb:/relay", "user@example.com", "[user.relay.test]:587");
  Put("lmdb:/relay", "<>", "[null.relay.test]");
  Put("lmdb:/relay", "\"a b\"@example.org", "[quoted-ext.relay.test]");
  Put("lmdb:/relay", "localuser", "[localpart.relay.test]");
  Put("lmdb:/relay", "full@example.com", "[full.relay.test]");

  SenderResolution r = Resolve("user+foo@example.com");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"user+foo@example.com", "user@example.com"}));
  EXPECT_EQ(r.relay.value, "[user.relay.test]:587");
  EXPECT_EQ(r.relay.source, RelaySource::kSenderDependent);
  ASSERT_TRUE(r.relay.match);
  EXPECT_EQ(r.relay.match->key, "user@example.com");
  EXPECT_EQ(r.relay.match->table, "lmdb:/relay");

  r = Resolve("nobody@nowhere.test");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"nobody@nowhere.test", "@nowhere.test"}));
  EXPECT_EQ(r.relay.source, RelaySource::kRelayhost);
  EXPECT_EQ(r.relay.value, "[default.relay.test]:587");

  r = Resolve("<>");
  EXPECT_EQ(r.sender, "<>");
  EXPECT_EQ(Tried(r, SearchKind::kRelay), (V{"\"<>\"", "<>"}));
  EXPECT_EQ(r.relay.value, "[null.relay.test]");

  r = Resolve("\"a b+zz\"@example.org");
  EXPECT_EQ(r.sender, "\"a b+zz\"@example.org");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"\"a b+zz\"@example.org", "a b+zz@example.org",
               "\"a b\"@example.org"}));

  r = Resolve("localuser+x@mx.local.test");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"localuser+x@mx.local.test", "localuser@mx.local.test",
               "localuser+x", "localuser"}));
  EXPECT_EQ(r.relay.value, "[localpart.relay.test]");

  r = Resolve("FULL@Example.COM");
  EXPECT_EQ(r.relay.value, "[full.relay.test]");

  // An unqualified sender is qualified with $myorigin, which is local.
  r = Resolve("localuser");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"localuser@local.test", "localuser"}));
}

TEST_F(SenderLookupTest, DunnoStopsTheSearchAndFallsBack) {
  Put("lmdb:/relay", "dunno@corp.test", "DuNnO");
  Put("lmdb:/relay", "@corp.test", "[corp.relay.test]");
  SenderResolution r = Resolve("dunno@corp.test");
  EXPECT_EQ(r.relay.source, RelaySource::kRelayhost);
  ASSERT_TRUE(r.relay.dunno);
  EXPECT_EQ(r.relay.dunno->key, "dunno@corp.test");
  ASSERT_EQ(r.tried.size(), 1u);
  EXPECT_EQ(r.tried[0].result, Outcome::kDunno);
  config_.Set("relayhost", "");
  resolver_.reset();
  r = Resolve("dunno@corp.test", "rcpt@dest.example");
  EXPECT_EQ(r.relay.source, RelaySource::kRecipientDomain);
  EXPECT_EQ(r.relay.value, "dest.example");
  ASSERT_EQ(r.destinations.size(), 1u);
  EXPECT_TRUE(r.destinations[0].mx_lookup);
}

TEST_F(SenderLookupTest, CredentialOrderMatchesSmtp) {
  // Spec §7.1, nexthop [localhost]:2525.
  config_.Set("relayhost", "[localhost]:2525");
  config_.Set("sender_dependent_relayhost_maps", "");
  config_.Set("smtp_sasl_auth_enable", "yes");
  config_.Set("smtp_sender_dependent_authentication", "yes");
  config_.Set("smtp_sasl_password_maps", "lmdb:/sasl");
  Put("lmdb:/sasl", "full@example.com", "fulluser:fullpass");
  Put("lmdb:/sasl", "user@example.com", "useruser:userpass");
  Put("lmdb:/sasl", "@example.com", "domuser:dompass");
  Put("lmdb:/sasl", "localhost", "hostuser:hostpass");
  Put("lmdb:/sasl", "col@example.net", "col:pa:ss:word");

  SenderResolution r = Resolve("full@example.com");
  ASSERT_EQ(r.destinations.size(), 1u);
  const Destination& d = r.destinations[0];
  EXPECT_EQ(d.outcome, Outcome::kFound);
  ASSERT_TRUE(d.credentials);
  EXPECT_EQ(d.credentials->username, "fulluser");
  EXPECT_EQ(d.credentials->password, "fullpass");
  EXPECT_EQ(d.credentials->matched_by, MatchedBy::kSender);
  EXPECT_TRUE(d.credentials->to_default_relay);

  r = Resolve("USER+x@EXAMPLE.COM");
  EXPECT_EQ(Tried(r, SearchKind::kCredentials),
            (V{"USER+x@EXAMPLE.COM", "USER@EXAMPLE.COM"}));
  EXPECT_EQ(r.destinations[0].credentials->username, "useruser");

  r = Resolve("stranger@else.test");
  EXPECT_EQ(Tried(r, SearchKind::kCredentials),
            (V{"stranger@else.test", "@else.test", "localhost"}));
  EXPECT_EQ(r.destinations[0].credentials->matched_by, MatchedBy::kHost);
  EXPECT_EQ(*r.destinations[0].host, "localhost");

  r = Resolve("<>");
  EXPECT_EQ(Tried(r, SearchKind::kCredentials), (V{"localhost"}));

  r = Resolve("col@example.net");
  EXPECT_EQ(r.destinations[0].credentials->username, "col");
  EXPECT_EQ(r.destinations[0].credentials->password, "pa:ss:word");
}

TEST_F(SenderLookupTest, NexthopKeyIsExactAndIpLiteralHostIsTheAddress) {
  config_.Set("sender_dependent_relayhost_maps", "");
  config_.Set("relayhost", "[localhost]:2525, [127.0.0.1]:2525");
  config_.Set("smtp_sasl_auth_enable", "yes");
  config_.Set("smtp_sasl_password_maps", "lmdb:/sasl");
  Put("lmdb:/sasl", "[localhost]:2525", "destuser:destpass");
  Put("lmdb:/sasl", "justuser@example.com", "justuser");
  SenderResolution r = Resolve("bob@example.com");
  ASSERT_EQ(r.destinations.size(), 2u);
  EXPECT_EQ(r.destinations[0].outcome, Outcome::kFound);
  EXPECT_EQ(r.destinations[0].note, CredentialNote::kNone);
  EXPECT_EQ(r.destinations[0].credentials->matched_by, MatchedBy::kNexthop);
  EXPECT_EQ(r.destinations[1].outcome, Outcome::kNotFound);
  EXPECT_EQ(r.destinations[1].note, CredentialNote::kNone);
  // Sender keys are off (smtp_sender_dependent_authentication = no).
  EXPECT_EQ(
      Tried(r, SearchKind::kCredentials),
      (V{"localhost", "[localhost]:2525", "127.0.0.1", "[127.0.0.1]:2525"}));
  EXPECT_EQ(r.tried[1].destination, 0);
  EXPECT_EQ(r.tried[3].destination, 1);
}

TEST_F(SenderLookupTest, MxRoutedDestinationsDependOnTheMxHost) {
  config_.Set("sender_dependent_relayhost_maps", "");
  config_.Set("relayhost", "localhost:2525");
  config_.Set("smtp_sasl_auth_enable", "yes");
  config_.Set("smtp_sasl_password_maps", "lmdb:/sasl");
  Put("lmdb:/sasl", "localhost:2525", "destuser:x");
  SenderResolution r = Resolve("bob@example.com");
  ASSERT_EQ(r.destinations.size(), 1u);
  EXPECT_EQ(r.destinations[0].note, CredentialNote::kDependsOnMx);
  EXPECT_FALSE(r.destinations[0].host);
  ASSERT_TRUE(r.destinations[0].credentials);
  EXPECT_EQ(r.destinations[0].credentials->key, "localhost:2525");

  resolve_mx_ = [](std::string_view) -> Result<std::vector<std::string>> {
    return std::vector<std::string>{"localhost"};
  };
  resolver_.reset();
  r = Resolve("bob@example.com");
  EXPECT_EQ(Tried(r, SearchKind::kCredentials),
            (V{"localhost", "localhost:2525"}));
  EXPECT_EQ(r.destinations[0].outcome, Outcome::kFound);
  EXPECT_EQ(r.destinations[0].note, CredentialNote::kNone);
}

TEST_F(SenderLookupTest, AuthDisabledAndInlineTablesAreMasked) {
  config_.Set("sender_dependent_relayhost_maps", "");
  SenderResolution r = Resolve("bob@example.com");
  ASSERT_EQ(r.destinations.size(), 1u);
  EXPECT_EQ(r.destinations[0].outcome, Outcome::kSkipped);
  EXPECT_EQ(r.destinations[0].note, CredentialNote::kAuthDisabled);
  config_.Set("smtp_sasl_auth_enable", "yes");
  config_.Set("smtp_sasl_password_maps",
              "inline:{ {[default.relay.test]:587 = u:secret} }");
  resolver_.reset();
  r = Resolve("bob@example.com");
  ASSERT_EQ(r.destinations.size(), 1u);
  ASSERT_TRUE(r.destinations[0].credentials);
  EXPECT_EQ(r.destinations[0].credentials->password, "secret");
  EXPECT_EQ(r.destinations[0].credentials->table.find("secret"),
            std::string::npos);
  for (const TriedKey& t : r.tried) {
    EXPECT_EQ(t.table.find("secret"), std::string::npos);
  }
}

// An SQL table is a fixed-string table: asked with the partial keys, and
// the trace keeps the query each key ran as the database saw it.
TEST_F(SenderLookupTest, SqlTablesAreAskedWithPartialKeysAndTheTraceShowsEachQuery) {
#ifndef MAPCTL_HAVE_SQLITE
  GTEST_SKIP() << "built without sqlite";
#endif
  testing::TempDir dir;
  const std::string db = dir.path().string() + "/relay.db";
  const std::string sql =
      "sqlite3 " + db +
      " \"create table r(k text, v text); insert into r values"
      "('@example.com','[sql.relay.test]:587');\"";
  ASSERT_EQ(std::system(sql.c_str()), 0) << "the sqlite3 program is needed";
  const std::string cf = dir.WriteFile(
      "relay.cf", "dbpath = " + db + "\nquery = SELECT v FROM r WHERE k='%s'\n",
      0640);
  config_.Set("sender_dependent_relayhost_maps", "proxy:sqlite:" + cf);
  SenderResolution r = Resolve("user+foo@example.com");
  EXPECT_EQ(r.relay.value, "[sql.relay.test]:587");
  EXPECT_EQ(Tried(r, SearchKind::kRelay),
            (V{"user+foo@example.com", "user@example.com", "@example.com"}));
  ASSERT_EQ(r.tried.size(), 3u);
  EXPECT_EQ(r.tried[0].query, "SELECT v FROM r WHERE k='user+foo@example.com'");
  EXPECT_EQ(r.tried[2].query, "SELECT v FROM r WHERE k='@example.com'");

  // "sqlite:NAME" without a '/': Postfix reads NAME_dbpath, NAME_query, ...
  // from main.cf (cfg_parser), expanded as main.cf values are.
  config_ = MainConfig::Parse(
      "compatibility_level = 3.6\n"
      "sqlrelay_dbpath = " + db + "\n"
      "sqlrelay_table = r\n"
      "sqlrelay_query = SELECT v FROM $sqlrelay_table WHERE k='%s'\n"
      "sender_dependent_relayhost_maps = sqlite:sqlrelay\n",
      dir.path().string(), dir.path().string() + "/main.cf");
  resolver_.reset();
  r = Resolve("user@example.com");
  EXPECT_EQ(r.relay.value, "[sql.relay.test]:587");
  ASSERT_FALSE(r.tried.empty());
  EXPECT_EQ(r.tried[0].query, "SELECT v FROM r WHERE k='user@example.com'");

  // A parameter Set() adds (mapctl's --set) counts as if main.cf had it:
  // with sqlrelay_domain the keys of example.com are not asked.
  config_.Set("sqlrelay_domain", "example.org");
  resolver_.reset();
  r = Resolve("user@example.com");
  EXPECT_EQ(r.relay.outcome, Outcome::kNotFound);
  for (const TriedKey& t : r.tried) EXPECT_EQ(t.query, "") << t.key;
}

TEST_F(SenderLookupTest, UnsupportedAndBrokenTablesStopTheSearch) {
  config_.Set("sender_dependent_relayhost_maps",
              "cidr:/relay.cidr lmdb:/relay");
  SenderResolution r = Resolve("bob@example.com");
  EXPECT_EQ(r.relay.outcome, Outcome::kNotEvaluated);
  EXPECT_TRUE(r.destinations.empty());
  ASSERT_EQ(r.tried.size(), 1u);
  EXPECT_EQ(r.tried[0].result, Outcome::kNotEvaluated);

  config_.Set("sender_dependent_relayhost_maps", "lmdb:/missing");
  resolver_.reset();
  r = Resolve("bob@example.com");
  EXPECT_EQ(r.relay.outcome, Outcome::kError);
  EXPECT_EQ(r.tried[0].result, Outcome::kError);
}

TEST_F(SenderLookupTest, ScopeWarnings) {
  config_.Set("sender_dependent_relayhost_maps", "");
  config_.Set("transport_maps", "lmdb:/transport");
  config_.Set("default_transport", "smtp:[x.test]");
  config_.Set("masquerade_domains", "example.com");
  config_.Set("smtp_fallback_relay", "[fallback.test]");
  SenderResolution r = Resolve("bob@example.com", "x@localhost");
  EXPECT_TRUE(HasWarning(r, "transport_maps"));
  EXPECT_TRUE(HasWarning(r, "default_transport_nexthop"));
  EXPECT_TRUE(HasWarning(r, "masquerade_domains"));
  EXPECT_TRUE(HasWarning(r, "smtp_fallback_relay"));
  EXPECT_TRUE(HasWarning(r, "recipient_is_local"));
  EXPECT_FALSE(HasWarning(r, "relay_transport"));
}

// master(5): the transport's service must run smtp(8), and its -o
// overrides of smtp client parameters change the answer.
TEST_F(SenderLookupTest, MasterCfServiceOfTheTransportIsChecked) {
  master_cf_ =
      "# comment\n"
      "smtp      unix  -       -       n       -       -       smtp\n"
      "  -o syslog_name=postfix/$service_name\n"
      "  -o { smtp_sasl_password_maps = lmdb:/other }\n"
      "relay     unix  -       -       n       -       -       lmtp\n";
  SenderResolution r = Resolve("bob@example.com");
  EXPECT_TRUE(HasWarning(r, "default_transport_override"));
  EXPECT_FALSE(HasWarning(r, "default_transport_service"));
  // relay_transport only matters with relay_domains.
  EXPECT_FALSE(HasWarning(r, "relay_transport_service"));
  resolver_.reset();
  master_cf_ = "smtp unix - - n - - lmtp\n";
  SenderResolution lmtp = Resolve("bob@example.com");
  EXPECT_TRUE(HasWarning(lmtp, "default_transport_service"));
  EXPECT_FALSE(HasWarning(lmtp, "default_transport_override"));
  resolver_.reset();
  master_cf_ = "smtp unix - - n - - smtp\n  -o syslog_name=x\n";
  SenderResolution plain = Resolve("bob@example.com");
  EXPECT_FALSE(HasWarning(plain, "default_transport_service"));
  EXPECT_FALSE(HasWarning(plain, "default_transport_override"));
}

TEST_F(SenderLookupTest, BadInputIsAnError) {
  resolver_ = Make();
  SenderResolution out;
  EXPECT_FALSE(resolver_->Resolve(std::string(100 * 1024, 'x'), "", &out).ok());
  EXPECT_FALSE(resolver_->Resolve("\"unbalanced@x", "", &out).ok());
}

TEST(SenderDestinationsTest, ParsesRelayLists) {
  std::vector<Destination> d = ParseDestinations(
      "[a.test]:587, b.test c.test:2525 [ipv6:2001:db8::1]:25");
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].domain, "a.test");
  EXPECT_EQ(d[0].port, "587");
  EXPECT_FALSE(d[0].mx_lookup);
  EXPECT_TRUE(d[1].mx_lookup);
  EXPECT_EQ(d[2].domain, "c.test");
  EXPECT_EQ(d[2].port, "2525");
  EXPECT_EQ(d[3].domain, "2001:db8::1");
  EXPECT_EQ(d[3].nexthop, "[ipv6:2001:db8::1]:25");
}

}  // namespace
}  // namespace mapctl
