// sender_list_test.cc - `--senders FILE` (mapctl/sender_list.h): address
// lists and Postfix maillogs, with qmgr lines copied from real Postfix
// 3.7.11 logs (postlogd, rsyslog, journald; /work/notes/admin-corpus).

#include "mapctl/sender_list.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

namespace mapctl {
namespace {

using Senders = std::vector<std::string>;

SenderList Parse(std::string_view text) {
  Result<SenderList> list = ParseSenderList(text, "senders");
  EXPECT_TRUE(list.has_value()) << list.error().message();
  return list.has_value() ? std::move(list).value() : SenderList{};
}

std::string Gzip(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// postlogd (maillog_file), run with pickup, cleanup, smtp and qmgr lines.
constexpr std::string_view kPostlogd =
    "Dec 01 21:34:26 mta postfix/postfix-script[10951]: starting the Postfix "
    "mail system\n"
    "Dec 01 21:34:26 mta postfix/pickup[10957]: 75EFDA7A60E: uid=0 "
    "from=<alice@example.com>\n"
    "Dec 01 21:34:26 mta postfix/cleanup[10966]: 75EFDA7A60E: "
    "message-id=<20261201213426.75EFDA7A60E@mta.local.test>\n"
    "Dec 01 21:34:26 mta postfix/qmgr[10958]: 75EFDA7A60E: "
    "from=<alice@example.com>, size=280, nrcpt=1 (queue active)\n"
    "Dec 01 21:34:26 mta postfix/smtp[10971]: 75EFDA7A60E: "
    "to=<rcpt-00@remote.test>, relay=127.0.0.1[127.0.0.1]:45461, delay=0.3, "
    "delays=0.17/0.07/0.05/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued "
    "as E2E)\n"
    "Dec 01 21:34:26 mta postfix/qmgr[10958]: 75EFDA7A60E: removed\n"
    "Dec 01 21:34:26 mta postfix/pickup[10957]: D0D55A7A60F: uid=0 from=<>\n"
    "Dec 01 21:34:26 mta postfix/qmgr[10958]: D0D55A7A60F: from=<>, "
    "size=280, nrcpt=1 (queue active)\n"
    "Dec 01 21:34:27 mta postfix/qmgr[10958]: 237BEA7A61E: "
    "from=<\"a b\"@example.org>, size=280, nrcpt=1 (queue active)\n"
    "Dec 01 21:34:31 mta postfix/qmgr[10958]: 5BD6BA7A62E: "
    "from=<late@example.com>, status=expired, returned to sender\n"
    "Dec 01 21:34:31 mta postfix/qmgr[10958]: 87BEFA7A644: from=<>, "
    "size=2198, nrcpt=1 (queue active)\n"
    "Dec 01 21:34:36 mta postfix/qmgr[11184]: A7B36A7A22D: "
    "from=<alice@example.com>, size=284, nrcpt=1 (queue active)\n";

TEST(SenderListTest, AMaillogGivesTheDistinctQmgrSendersInFirstSeenOrder) {
  SenderList list = Parse(kPostlogd);
  EXPECT_EQ(list.format, SenderListFormat::kMaillog);
  EXPECT_EQ(list.senders, (Senders{"alice@example.com", "<>",
                                   "\"a b\"@example.org",
                                   "late@example.com"}));
  EXPECT_EQ(list.log_lines, 6u);
  EXPECT_FALSE(list.gzip);
}

TEST(SenderListTest, PickupLinesAloneGiveNoSender) {
  // pickup logs "uid=N from=<...>" for mail that qmgr never saw yet.
  SenderList list = Parse(
      "Dec 01 21:34:26 mta postfix/pickup[10957]: 75EFDA7A60E: uid=0 "
      "from=<alice@example.com>\n");
  EXPECT_EQ(list.format, SenderListFormat::kMaillog);
  EXPECT_TRUE(list.senders.empty());
}

TEST(SenderListTest, AnInstanceSyslogNameAndALongQueueIdAreQmgrToo) {
  SenderList list = Parse(
      "Dec 01 21:35:07 mta postfix-out/qmgr[11967]: 777CBA7A75C: "
      "from=<\"a>b\"@example.org>, size=280, nrcpt=1 (queue active)\n"
      "Dec 01 21:36:59 mta postfix/qmgr[14969]: 4jfDk31zz4z1bnrj: "
      "from=<bob@example.com>, size=275, nrcpt=1 (queue active)\n");
  EXPECT_EQ(list.senders, (Senders{"\"a>b\"@example.org", "bob@example.com"}));
}

TEST(SenderListTest, AnotherDaemonsFromFieldIsNotTaken) {
  // The qmgr shape behind a tag of another daemon (a header_checks reject
  // logged by cleanup names from=<...> too, but not after the queue id).
  SenderList list = Parse(
      "Dec 01 21:34:26 mta postfix/cleanup[10966]: 75EFDA7A60E: "
      "from=<x@example.com>, size=1, nrcpt=1 (queue active)\n"
      "Dec 01 21:34:26 mta postfix/cleanup[10966]: 75EFDA7A60E: reject: "
      "header Subject: x; from=<y@example.com> to=<z@example.com>\n");
  EXPECT_EQ(list.format, SenderListFormat::kMaillog);
  EXPECT_TRUE(list.senders.empty());
}

TEST(SenderListTest, JournalctlCatOutputHasNoPrefixAndIsStillAMaillog) {
  SenderList list = Parse(
      "Journal started\n"
      "B40E2A7AA5F: uid=0 from=<alice@example.com>\n"
      "B40E2A7AA5F: from=<alice@example.com>, size=280, nrcpt=1 (queue "
      "active)\n"
      "635C4A7AA65: uid=0 from=<root>\n"
      "635C4A7AA65: from=<root@local.test>, size=280, nrcpt=1 (queue "
      "active)\n"
      "C2C2BA7AA6F: from=<>, size=2198, nrcpt=1 (queue active)\n");
  EXPECT_EQ(list.format, SenderListFormat::kMaillog);
  EXPECT_EQ(list.senders,
            (Senders{"alice@example.com", "root@local.test", "<>"}));
}

TEST(SenderListTest, Rfc5424LinesLoseTheDaemonNameButKeepQmgrsShape) {
  SenderList list = Parse(
      "<22>1 2026-12-01T21:35:40.770538+00:00 vm postfix 12987 - -  "
      "BC042A7A81F: uid=0 from=<alice@example.com>\n"
      "<22>1 2026-12-01T21:35:40.859660+00:00 vm postfix 12988 - -  "
      "BC042A7A81F: from=<alice@example.com>, size=280, nrcpt=1 (queue "
      "active)\n");
  EXPECT_EQ(list.senders, (Senders{"alice@example.com"}));
}

TEST(SenderListTest, RsyslogDebian12TimestampsAndCrlfEndingsAreRead) {
  SenderList list = Parse(
      "2026-12-01T21:35:40.859660+00:00 vm postfix/qmgr[12988]: BC042A7A81F: "
      "from=<jürgen@example.com>, size=280, nrcpt=1 (queue active)\r\n");
  EXPECT_EQ(list.senders, (Senders{"jürgen@example.com"}));
}

TEST(SenderListTest, AnAddressListSkipsCommentsAndBlankLinesAndKeepsNull) {
  SenderList list = Parse(
      "# who sends\n\nalice@example.com\n  bob@example.com \r\n<>\n"
      "alice@example.com\n");
  EXPECT_EQ(list.format, SenderListFormat::kAddresses);
  EXPECT_EQ(list.senders, (Senders{"alice@example.com", "bob@example.com",
                                   "<>", "alice@example.com"}));
}

TEST(SenderListTest, AGzipMaillogIsToldByItsMagicBytes) {
  SenderList list = Parse(Gzip(kPostlogd));
  EXPECT_TRUE(list.gzip);
  EXPECT_EQ(list.format, SenderListFormat::kMaillog);
  EXPECT_EQ(list.senders.size(), 4u);
}

// The same senders whatever the chunks: one byte at a time splits every
// line, the gzip magic and every gzip member.
SenderList ByteByByte(std::string_view bytes) {
  SenderListReader reader("senders");
  for (char c : bytes) {
    Status s = reader.Add(std::string_view(&c, 1));
    EXPECT_TRUE(s.ok()) << s.message();
  }
  Result<SenderList> list = reader.Finish();
  EXPECT_TRUE(list.has_value()) << list.error().message();
  return list.has_value() ? std::move(list).value() : SenderList{};
}

TEST(SenderListTest, AStreamFedByteByByteGivesWhatTheWholeTextGives) {
  EXPECT_EQ(ByteByByte(kPostlogd).senders, Parse(kPostlogd).senders);
  SenderList gz = ByteByByte(Gzip(kPostlogd) + Gzip("Dec 01 21:34:36 mta "
      "postfix/qmgr[11184]: B7B36A7A22D: from=<zed@example.com>, size=284, "
      "nrcpt=1 (queue active)\n"));
  EXPECT_TRUE(gz.gzip);
  EXPECT_EQ(gz.senders, (Senders{"alice@example.com", "<>",
                                 "\"a b\"@example.org", "late@example.com",
                                 "zed@example.com"}));
  EXPECT_EQ(ByteByByte("a@example.com\nb@example.com").senders,
            (Senders{"a@example.com", "b@example.com"}));
  EXPECT_EQ(ByteByByte("x").senders, (Senders{"x"}));
}

TEST(SenderListTest, AMaillogLargerThanTheInflateBufferIsReadWhole) {
  std::string log;
  for (int i = 0; i < 5000; ++i) {
    log += "Dec 01 21:34:26 mta postfix/qmgr[10958]: Q" + std::to_string(i) +
           ": from=<s" + std::to_string(i) +
           "@example.com>, size=280, nrcpt=1 (queue active)\n";
  }
  SenderList list = Parse(Gzip(log));
  ASSERT_EQ(list.senders.size(), 5000u);
  EXPECT_EQ(list.senders.back(), "s4999@example.com");
}

TEST(SenderListTest, ConcatenatedGzipMembersAreAllRead) {
  SenderList list = Parse(Gzip("a@example.com\n") + Gzip("b@example.com\n"));
  EXPECT_EQ(list.senders, (Senders{"a@example.com", "b@example.com"}));
}

TEST(SenderListTest, TruncatedGzipDataIsAParseErrorNamingTheInput) {
  std::string gz = Gzip(kPostlogd);
  gz.resize(gz.size() / 2);
  Result<SenderList> list = ParseSenderList(gz, "maillog.1.gz");
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code(), ErrorCode::kParseError);
  EXPECT_NE(list.error().message().find("maillog.1.gz"), std::string::npos);
}

TEST(SenderListTest, ABinaryFileIsRefusedWithItsLine) {
  Result<SenderList> list =
      ParseSenderList(std::string_view("a@b\nx\0y\n", 8), "senders");
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message(), "senders:2: a NUL byte: not a text file");
}

TEST(SenderListTest, AMissingFileIsAnIoError) {
  Result<SenderList> list = ReadSenderList("/nonexistent/maillog");
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace mapctl
