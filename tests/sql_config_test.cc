// sql_config_test.cc - the SQL tables' .cf reader, query templates, domain
// list and an sqlite table end to end. Expected behaviour was observed with
// postmap 3.7.11 (postfix-sqlite/-pgsql/-mysql); the notes say where.

#include <gtest/gtest.h>
#ifdef MAPCTL_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include <string>

#include "postfix/cf_params.h"
#include "postfix/sql_config.h"
#include "postfix/sql_domain.h"
#include "postfix/sql_table.h"
#include "postfix/sql_template.h"
#include "test_util.h"

namespace mapctl::sql {
namespace {

CfParams ParseCf(std::string_view text) {
  Result<CfParams> p = CfParams::Parse(text, "t.cf");
  EXPECT_TRUE(p) << p.error().message();
  return p ? std::move(p).value() : CfParams("t.cf");
}

Status ConfigError(SqlType type, std::string_view text) {
  Result<SqlConfig> c = ParseSqlConfig(type, ParseCf(text));
  return c ? Status::Ok() : c.error();
}

SqlConfig Config(SqlType type, std::string_view text) {
  Result<SqlConfig> c = ParseSqlConfig(type, ParseCf(text));
  EXPECT_TRUE(c) << c.error().message();
  return c ? std::move(c).value() : SqlConfig{};
}

constexpr std::string_view kPg =
    "dbname = mail\nquery = SELECT v FROM kv WHERE k='%s'\n";

// ------------------------------------------------------------- .cf reader

TEST(CfParamsTest, ContinuationLinesAreAppendedWithoutTheirNewline) {
  CfParams p = ParseCf("query = SELECT 'a\n  b'\n# c\n\n   \n || 'x'\n");
  ASSERT_NE(p.Find("query"), nullptr);
  EXPECT_EQ(p.Find("query")->value, "SELECT 'a  b' || 'x'");
  EXPECT_EQ(p.Find("query")->line, 1u);
}

TEST(CfParamsTest, HashLaterInALineIsNotAComment) {
  CfParams p = ParseCf("query = SELECT 1 # not a comment\n");
  EXPECT_EQ(p.Find("query")->value, "SELECT 1 # not a comment");
}

TEST(CfParamsTest, WhitespaceBeforeTheFirstLogicalLineIsAWarningAndSkipped) {
  CfParams p = ParseCf("  dbpath = /x\nquery = q\n");
  EXPECT_EQ(p.Find("dbpath"), nullptr);
  ASSERT_EQ(p.diagnostics().size(), 1u);
  EXPECT_EQ(p.diagnostics()[0].line, 1u);
  EXPECT_EQ(p.diagnostics()[0].message,
            "logical line must not start with whitespace");
}

TEST(CfParamsTest, TheLastOfARepeatedNameWinsWithAWarningThatQuotesNoValue) {
  CfParams p = ParseCf("password = s3cret\nquery = a\npassword = other\n");
  EXPECT_EQ(p.Find("password")->value, "other");
  ASSERT_EQ(p.diagnostics().size(), 1u);
  EXPECT_EQ(p.diagnostics()[0].line, 3u);
  EXPECT_EQ(p.diagnostics()[0].message.find("s3cret"), std::string::npos);
  EXPECT_NE(p.diagnostics()[0].message.find("\"password\""), std::string::npos);
}

TEST(CfParamsTest, ALineWithoutEqualsIsFatalWithItsLineButNotItsText) {
  Result<CfParams> p = CfParams::Parse("query = a\nhunter2 secret\n", "t.cf");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "t.cf:2: missing '=' after attribute name");
  Result<CfParams> q = CfParams::Parse("= x\n", "t.cf");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message(), "t.cf:1: missing attribute name");
}

TEST(CfParamsTest, NamesAreCaseSensitiveAndValuesAreTrimmedNotExpanded) {
  CfParams p = ParseCf("Query = upper\nquery   =  $x '%s'  \n");
  EXPECT_EQ(p.Find("query")->value, "$x '%s'");
  EXPECT_EQ(p.Find("Query")->value, "upper");
}

// ------------------------------------------------------------ parameters

TEST(SqlConfigTest, UnknownParametersAreIgnoredSilently) {
  SqlConfig c =
      Config(SqlType::kPgsql, std::string(kPg) + "no_such_param = 1\n");
  EXPECT_TRUE(c.diagnostics.empty());
  EXPECT_EQ(c.query, "SELECT v FROM kv WHERE k='%s'");
}

TEST(SqlConfigTest, EmptyOrMissingDbnameAndDbpathAreFatalNamingTheFile) {
  EXPECT_EQ(ConfigError(SqlType::kPgsql, "query = q\n").message(),
            "t.cf: dbname is not set");
  EXPECT_EQ(ConfigError(SqlType::kMysql, "dbname =\nquery = q\n").message(),
            "t.cf:1: dbname must not be empty");
  EXPECT_EQ(ConfigError(SqlType::kSqlite, "query = q\n").message(),
            "t.cf: dbpath is not set");
}

// The main.cf form ("pgsql:relay" reads relay_dbname, ...): messages name
// the main.cf parameter, as postmap does ("bad string length 0 < 1:
// relay_dbname =").
TEST(SqlConfigTest, TheMainCfFormNamesMainCfParameters) {
  CfParams params("/etc/postfix/main.cf");
  params.SetNamePrefix("relay_");
  params.Set("query", "SELECT v FROM kv WHERE k='%s'", 7);
  params.Set("expansion_limit", "x", 0);
  Result<SqlConfig> c = ParseSqlConfig(SqlType::kPgsql, params);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(),
            "/etc/postfix/main.cf: relay_dbname is not set");
  params.Set("dbname", "mail", 8);
  c = ParseSqlConfig(SqlType::kPgsql, params);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(),
            "/etc/postfix/main.cf: bad numerical configuration: "
            "relay_expansion_limit is not a number");
}

TEST(SqlConfigTest, BadNumbersAndBooleansAreFatalWithoutTheirValue) {
  for (const char* bad : {"abc", "", "0x10", "5.0", "3 4", "2147483648"}) {
    Status s = ConfigError(
        SqlType::kPgsql, std::string(kPg) + "expansion_limit = " + bad + "\n");
    EXPECT_EQ(s.message(),
              "t.cf:3: bad numerical configuration: expansion_limit is not a "
              "number")
        << bad;
  }
  EXPECT_EQ(Config(SqlType::kPgsql, std::string(kPg) + "expansion_limit = +3\n")
                .expansion_limit,
            3);
  EXPECT_EQ(Config(SqlType::kPgsql, std::string(kPg) + "expansion_limit = -1\n")
                .expansion_limit,
            -1);
  for (const char* bad : {"maybe", "true", "1", ""}) {
    Status s =
        ConfigError(SqlType::kMysql,
                    std::string(kPg) + "require_result_set = " + bad + "\n");
    EXPECT_NE(s.message().find("t.cf:3: bad boolean configuration: "
                               "require_result_set"),
              std::string::npos)
        << bad;
  }
  EXPECT_FALSE(
      Config(SqlType::kMysql, std::string(kPg) + "require_result_set = NO\n")
          .require_result_set);
}

TEST(SqlConfigTest, LegacyFieldsBuildPostfixsQueryAndEachMissingOneIsFatal) {
  SqlConfig c =
      Config(SqlType::kSqlite,
             "dbpath = /x\ntable = kv\nselect_field = v\n"
             "where_field = k\nadditional_conditions = AND v <> 'r2'\n");
  EXPECT_EQ(c.query, "SELECT v FROM kv WHERE k='%s' AND v <> 'r2'");
  EXPECT_EQ(
      Config(SqlType::kSqlite,
             "dbpath = /x\ntable = kv\nselect_field = v\nwhere_field = k\n")
          .query,
      "SELECT v FROM kv WHERE k='%s' ");
  EXPECT_EQ(ConfigError(SqlType::kSqlite, "dbpath = /x\n").message(),
            "t.cf: table is not set");
  EXPECT_EQ(
      ConfigError(SqlType::kSqlite, "dbpath = /x\ntable = kv\n").message(),
      "t.cf: select_field is not set");
  EXPECT_EQ(ConfigError(SqlType::kSqlite,
                        "dbpath = /x\ntable = kv\nselect_field = v\n")
                .message(),
            "t.cf: where_field is not set");
}

TEST(SqlConfigTest, AnEmptyQueryFallsBackToTheLegacyFields) {
  // 3.7.11: "query =" builds the legacy query, for all three types.
  SqlConfig c = Config(SqlType::kMysql,
                       "dbname = m\nquery =\ntable = kv\nselect_field = v\n"
                       "where_field = k\n");
  EXPECT_EQ(c.query, "SELECT v FROM kv WHERE k='%s' ");
}

TEST(SqlConfigTest, PgsqlSelectFunctionSitsBetweenQueryAndLegacyFields) {
  EXPECT_EQ(Config(SqlType::kPgsql,
                   "dbname = m\nselect_function = lookup\ntable = kv\n")
                .query,
            "SELECT lookup('%s')");
  EXPECT_EQ(Config(SqlType::kPgsql,
                   "dbname = m\nselect_function = lookup\nquery = SELECT 'q'\n")
                .query,
            "SELECT 'q'");
  // mysql has no select_function: the legacy fields are required.
  EXPECT_EQ(ConfigError(SqlType::kMysql, "dbname = m\nselect_function = f\n")
                .message(),
            "t.cf: table is not set");
}

TEST(SqlConfigTest, AnInvalidTemplateIsFatalNamingTheLineOfTheTemplate) {
  EXPECT_EQ(ConfigError(SqlType::kPgsql,
                        "dbname = m\nquery = SELECT v WHERE k='%x'\n")
                .message(),
            "t.cf:2: invalid query template: '%x' at byte 19");
  EXPECT_EQ(ConfigError(SqlType::kSqlite, "dbpath = /x\nquery = SELECT 1 %\n")
                .message(),
            "t.cf:2: invalid query template: '%' at the end");
  EXPECT_EQ(
      ConfigError(SqlType::kMysql, std::string(kPg) + "result_format = %x\n")
          .message(),
      "t.cf:3: invalid result template: '%x' at byte 1");
  EXPECT_EQ(
      ConfigError(SqlType::kSqlite, "dbpath = /x\nquery = q\nresult_format =\n")
          .message(),
      "t.cf:3: result_format must not be empty");
}

TEST(SqlConfigTest, HostsAreTriedUnixSocketsFirstThenTcpInTheWrittenOrder) {
  std::vector<SqlHost> h =
      ParseHosts(SqlType::kPgsql,
                 "inet:db1:5433, unix:/run/pg "
                 "db2\tpostgresql://u:pw@x/d?password=pw /tmp/pg");
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0].text, "unix:/run/pg");
  EXPECT_EQ(h[0].name, "/run/pg");
  EXPECT_EQ(h[1].text, "/tmp/pg");
  EXPECT_EQ(h[1].kind, HostKind::kUnix);
  EXPECT_EQ(h[2].name, "db1");
  EXPECT_EQ(h[2].port, "5433");
  EXPECT_EQ(h[3].name, "db2");
  EXPECT_EQ(h[4].kind, HostKind::kUri);
  EXPECT_EQ(h[4].display, "postgresql://u:****@x/d?password=****");
  // pgsql "unix:/dir:5432" is a directory named "/dir:5432" (3.7.11).
  EXPECT_EQ(ParseHosts(SqlType::kPgsql, "unix:/dir:5432")[0].name, "/dir:5432");
}

TEST(SqlConfigTest,
     MysqlLocalhostMeansTheDefaultSocketAndNoHostsMeansLocalhost) {
  std::vector<SqlHost> h = ParseHosts(SqlType::kMysql, "");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].kind, HostKind::kUnix);
  EXPECT_EQ(h[0].name, "");
  EXPECT_EQ(ParseHosts(SqlType::kMysql, "inet:LocalHost:3306")[0].kind,
            HostKind::kUnix);
  EXPECT_EQ(ParseHosts(SqlType::kMysql, "/run/my.sock")[0].kind,
            HostKind::kInet);
  EXPECT_EQ(ParseHosts(SqlType::kPgsql, "")[0].name, "localhost");
}

TEST(SqlConfigTest, TheEchoMasksThePassword) {
  SqlConfig c = Config(SqlType::kMysql,
                       "hosts = unix:/s\nuser = postfix\npassword = s3cret\n"
                       "dbname = mail\nquery = SELECT 1\n");
  std::string echo = EchoConfig(c);
  EXPECT_EQ(echo.find("s3cret"), std::string::npos);
  EXPECT_NE(echo.find("password = ****\n"), std::string::npos);
  EXPECT_NE(echo.find("hosts = unix:/s\n"), std::string::npos);
}

// -------------------------------------------------------------- templates

Templates Tpl(std::string query, std::string result = "%s") {
  Result<Templates> t = Templates::Parse(std::move(query), std::move(result));
  EXPECT_TRUE(t) << t.error().message();
  return std::move(t).value();
}

// Quoting that marks each inserted piece, so the tests see the boundaries.
std::string Expand(const Templates& t, std::string_view key) {
  std::string out;
  Status s = t.ExpandQuery(
      key,
      [](std::string_view text, std::string* o) {
        o->append("<").append(text).append(">");
        return Status::Ok();
      },
      &out);
  EXPECT_TRUE(s.ok());
  return out;
}

TEST(SqlTemplateTest, ExpansionsSplitTheKeyAtItsLastAt) {
  Templates t = Tpl("%s|%u|%d|%S|%U|%D|%1|%2|%%");
  EXPECT_EQ(
      Expand(t, "a@b@mail.example.com"),
      "<a@b@mail.example.com>|<a@b>|<mail.example.com>|"
      "<a@b@mail.example.com>|<a@b>|<mail.example.com>|<com>|<example>|%");
}

TEST(SqlTemplateTest, PercentInTheKeyIsInsertedAsIsNotExpandedAgain) {
  EXPECT_EQ(Expand(Tpl("SELECT '%s'"), "%s%u%%"), "SELECT '<%s%u%%>'");
}

TEST(SqlTemplateTest, DomainExpansionsSuppressKeysWithoutADomain) {
  Templates t = Tpl("SELECT '%s' WHERE d = '%d'");  // %d anywhere decides
  EXPECT_EQ(t.Fit("user@example.com"), KeyFit::kFits);
  EXPECT_EQ(t.Fit("bare"), KeyFit::kSuppressed);
  EXPECT_EQ(t.Fit("user@"), KeyFit::kSuppressed);
  EXPECT_EQ(t.Fit("<>"), KeyFit::kSuppressed);
  EXPECT_EQ(t.Fit("@example.com"), KeyFit::kFits);
  EXPECT_EQ(t.Fit(""), KeyFit::kEmpty);
}

TEST(SqlTemplateTest, LocalPartExpansionsSuppressAnEmptyLocalPartOnly) {
  Templates t = Tpl("SELECT '%u'");
  EXPECT_EQ(t.Fit("@example.com"), KeyFit::kSuppressed);
  EXPECT_EQ(t.Fit("bare"), KeyFit::kFits);
  EXPECT_EQ(Expand(t, "<>"), "SELECT '<<>>'");
}

TEST(SqlTemplateTest, NumberedLabelsCountOnlyNonEmptyLabels) {
  // 3.7.11: "x@a..b.c" has three labels; "x@a.b.." two.
  Templates t = Tpl("%1|%2|%3");
  EXPECT_EQ(Expand(t, "x@a..b.c"), "<c>|<b>|<a>");
  EXPECT_EQ(Expand(t, "x@.a.b.c."), "<c>|<b>|<a>");
  EXPECT_EQ(t.Fit("x@a.b.."), KeyFit::kSuppressed);
  EXPECT_EQ(t.Fit("x@a.b"), KeyFit::kSuppressed);
  EXPECT_EQ(Tpl("%9|%1").Fit("u@a.b.c.d.e.f.g.h"), KeyFit::kSuppressed);
  EXPECT_EQ(Expand(Tpl("%9|%1"), "u@a.b.c.d.e.f.g.h.i"), "<a>|<i>");
}

TEST(SqlTemplateTest, ATemplateWithoutExpansionsAnswersEveryKey) {
  Templates t = Tpl("SELECT 'constant'");
  EXPECT_EQ(t.Fit("anything"), KeyFit::kFits);
  EXPECT_EQ(Expand(t, "anything"), "SELECT 'constant'");
}

TEST(SqlTemplateTest, ResultFormatAppliesToTheValueAndJoinsWithCommas) {
  Templates t = Tpl("q", "smtp:[%s]");
  std::string out;
  EXPECT_TRUE(t.AppendResult("r1", "k", &out));
  EXPECT_TRUE(t.AppendResult("r2", "k", &out));
  EXPECT_EQ(out, "smtp:[r1],smtp:[r2]");
  Templates pct = Tpl("q", "<%s>%%");
  out.clear();
  EXPECT_TRUE(pct.AppendResult("r1", "k", &out));
  EXPECT_EQ(out, "<r1>%");
}

TEST(SqlTemplateTest, ResultUserAndDomainSkipValuesWithoutThem) {
  Templates u = Tpl("q", "%u");
  std::string out;
  for (const char* v :
       {"someone@dest.example", "@dest.example", "nodomain", "user@"}) {
    u.AppendResult(v, "addr@example.com", &out);
  }
  EXPECT_EQ(out, "someone,nodomain,user");
  Templates d = Tpl("q", "%d");
  out.clear();
  for (const char* v :
       {"someone@dest.example", "@dest.example", "nodomain", "user@"}) {
    d.AppendResult(v, "addr@example.com", &out);
  }
  EXPECT_EQ(out, "dest.example,dest.example");
}

TEST(SqlTemplateTest, KeyExpansionsInResultFormatAlsoSuppressTheQuery) {
  Templates t = Tpl("SELECT v WHERE k='%s'", "%U@%D");
  EXPECT_EQ(t.Fit("user"), KeyFit::kSuppressed);
  std::string out;
  EXPECT_TRUE(t.AppendResult("v", "a@example.com", &out));
  EXPECT_EQ(out, "a@example.com");
}

// ------------------------------------------------------------ domain list

TEST(SqlDomainTest, NamesMatchTheDomainAsAStringCaseInsensitively) {
  Result<DomainList> d =
      DomainList::Parse("other.example, Example.COM", FoldMode::kUtf8, nullptr);
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d->Admits("a@EXAMPLE.com"));
  EXPECT_FALSE(*d->Admits("a@sub.example.com"));  // not host-name matching
  EXPECT_FALSE(*d->Admits("@example.com"));       // no local part: no query
  EXPECT_FALSE(*d->Admits("example.com"));
  EXPECT_FALSE(*d->Admits("a@"));
  EXPECT_TRUE(*DomainList().Admits("anything"));
}

TEST(SqlDomainTest, TheFirstMatchingItemDecidesAndNegationRefuses) {
  Result<DomainList> d =
      DomainList::Parse("!example.com, example.com", FoldMode::kAscii, nullptr);
  EXPECT_FALSE(*d->Admits("a@example.com"));
  Result<DomainList> u =
      DomainList::Parse("ëxample.org", FoldMode::kUtf8, nullptr);
  EXPECT_TRUE(*u->Admits("a@ËXAMPLE.ORG"));
  Result<DomainList> a =
      DomainList::Parse("ëxample.org", FoldMode::kAscii, nullptr);
  EXPECT_FALSE(*a->Admits("a@ËXAMPLE.ORG"));
}

TEST(SqlDomainTest, FileItemsAndTableItemsAreReadAtOpen) {
  mapctl::testing::TempDir dir;
  std::string list = dir.WriteFile(
      "domains", "# comment\nexample.com\n  b.example c.example\n");
  std::vector<std::string> asked;
  DomainTableOpener open =
      [&](std::string_view name) -> Result<DomainTableLookup> {
    if (name != "hash:/d")
      return Status::IoError("open database /x.db", ENOENT);
    return DomainTableLookup([&](std::string_view key) -> Result<bool> {
      asked.emplace_back(key);
      return key == "t.example";
    });
  };
  Result<DomainList> d =
      DomainList::Parse(list + " hash:/d", FoldMode::kUtf8, open);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(*d->Admits("a@c.example"));
  EXPECT_TRUE(*d->Admits("a@T.Example"));
  EXPECT_EQ(asked, std::vector<std::string>{"t.example"});
  EXPECT_FALSE(DomainList::Parse("hash:/missing", FoldMode::kUtf8, open));
  Result<DomainList> missing =
      DomainList::Parse(dir.path().string() + "/nope", FoldMode::kUtf8, open);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("open file "), std::string::npos);
}

// ------------------------------------------------ an sqlite table, for real
#ifdef MAPCTL_HAVE_SQLITE

class SqliteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path().string() + "/m.sqlite";
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
    const char* script =
        "CREATE TABLE kv (k text, v text, w text);"
        "INSERT INTO kv VALUES ('a@example.com', 'one', 'second-column');"
        "INSERT INTO kv VALUES ('multi@example.com', 'r1', 'x');"
        "INSERT INTO kv VALUES ('multi@example.com', NULL, 'x');"
        "INSERT INTO kv VALUES ('multi@example.com', '', 'x');"
        "INSERT INTO kv VALUES ('multi@example.com', 'r3', 'x');"
        "INSERT INTO kv VALUES ('o''neil@example.com', 'quote', 'x');";
    ASSERT_EQ(sqlite3_exec(raw, script, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }

  std::unique_ptr<SqlTable> Open(std::string_view extra) {
    std::string cf =
        dir_.WriteFile("t.cf", "dbpath = " + db_ + "\n" + std::string(extra));
    Result<std::unique_ptr<SqlTable>> t =
        SqlTable::Open(SqlType::kSqlite, cf, SqlTableOptions{}, nullptr);
    EXPECT_TRUE(t) << t.error().message();
    return t ? std::move(t).value() : nullptr;
  }

  mapctl::testing::TempDir dir_;
  std::string db_;
};

TEST_F(SqliteTableTest,
       TheFirstColumnOfEveryRowIsJoinedNullSkippedEmptyWarned) {
  auto t = Open("query = SELECT v, w FROM kv WHERE k='%s'\n");
  SqlAnswer a = t->Lookup("MULTI@Example.com");
  EXPECT_EQ(a.outcome, SqlOutcome::kFound);
  EXPECT_EQ(a.value, "r1,r3");
  EXPECT_EQ(a.query, "SELECT v, w FROM kv WHERE k='multi@example.com'");
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(
      a.warnings[0].find("empty lookup result for: \"multi@example.com\""),
      std::string::npos);
}

TEST_F(SqliteTableTest, TheKeyIsEscapedBySqliteItself) {
  auto t = Open("query = SELECT v FROM kv WHERE k='%s'\n");
  SqlAnswer a = t->Lookup("o'neil@example.com");
  EXPECT_EQ(a.value, "quote");
  EXPECT_EQ(a.query, "SELECT v FROM kv WHERE k='o''neil@example.com'");
  EXPECT_EQ(t->Lookup("x'; DROP TABLE kv; --").outcome, SqlOutcome::kNotFound);
  EXPECT_EQ(t->Lookup("a@example.com").value, "one");
}

TEST_F(SqliteTableTest, ExpansionLimitCountsFormattedValuesAndIsAnError) {
  auto t = Open("query = SELECT v FROM kv WHERE k='%s'\nexpansion_limit = 1\n");
  SqlAnswer a = t->Lookup("multi@example.com");
  EXPECT_EQ(a.outcome, SqlOutcome::kError);
  EXPECT_NE(a.error.message().find("expansion limit exceeded"),
            std::string::npos);
  EXPECT_EQ(t->Lookup("a@example.com").value, "one");
}

TEST_F(SqliteTableTest, SuppressedAndEmptyKeysSendNoQuery) {
  auto t = Open("query = SELECT v FROM kv WHERE k='%u@%d'\n");
  SqlAnswer bare = t->Lookup("bare");
  EXPECT_EQ(bare.outcome, SqlOutcome::kNotFound);
  EXPECT_TRUE(bare.query.empty());
  SqlAnswer empty = t->Lookup("");
  ASSERT_EQ(empty.warnings.size(), 1u);
  EXPECT_NE(empty.warnings[0].find("empty query string -- ignored"),
            std::string::npos);
}

TEST_F(SqliteTableTest, TheDatabaseIsOpenedReadOnly) {
  auto t = Open("query = INSERT INTO kv VALUES ('%s', 'w', 'w') RETURNING v\n");
  SqlAnswer a = t->Lookup("new@example.com");
  EXPECT_EQ(a.outcome, SqlOutcome::kError);
  EXPECT_NE(a.error.message().find("readonly"), std::string::npos)
      << a.error.message();
  std::string missing =
      dir_.WriteFile("m.cf", "dbpath = " + dir_.path().string() +
                                 "/nope.sqlite\nquery = SELECT 1\n");
  Result<std::unique_ptr<SqlTable>> none =
      SqlTable::Open(SqlType::kSqlite, missing, SqlTableOptions{}, nullptr);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("can't open database"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "nope.sqlite"));
}

TEST_F(SqliteTableTest, ANonUtf8KeyIsNotFoundWithAWarning) {
  auto t = Open("query = SELECT '%s'\n");
  SqlAnswer a = t->Lookup("bad\xffkey");
  EXPECT_EQ(a.outcome, SqlOutcome::kNotFound);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("non-UTF-8 key \"bad?key\""), std::string::npos);
}

#endif  // MAPCTL_HAVE_SQLITE

}  // namespace
}  // namespace mapctl::sql
