// sender_list.cc - `--senders FILE`: an address list or a Postfix maillog,
// told apart by content (mapctl/sender_list.h).

#include "mapctl/sender_list.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <unordered_set>

namespace mapctl {
namespace {

bool IsQueueIdChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

// The daemon of a syslog tag "NAME/DAEMON[PID]:" ("postfix/qmgr[12]:",
// "postfix-out/qmgr[12]:"), or "" when `tag` is not one: RFC 5424's "-",
// or no prefix at all (journalctl -o cat).
std::string_view TagDaemon(std::string_view tag) {
  if (tag.size() < 4 || tag.substr(tag.size() - 2) != "]:") return {};
  const std::size_t bracket = tag.rfind('[');
  if (bracket == std::string_view::npos) return {};
  std::string_view name = tag.substr(0, bracket);
  const std::size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// The sender of a qmgr(8) "QUEUEID: from=<SENDER>, size=" or
// "..., status=" line (qmgr/qmgr_message.c and qmgr_active.c log these),
// or nullopt for any other line. "<>" for the null sender.
std::optional<std::string_view> QmgrSender(std::string_view line) {
  constexpr std::string_view kFrom = ": from=<";
  for (std::size_t at = line.find(kFrom); at != std::string_view::npos;
       at = line.find(kFrom, at + 1)) {
    std::size_t id = at;
    while (id > 0 && IsQueueIdChar(line[id - 1])) --id;
    if (id == at || (id > 0 && line[id - 1] != ' ')) continue;
    // The word before the queue id: a syslog tag names the daemon.
    std::string_view before = line.substr(0, id);
    while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
    const std::size_t space = before.rfind(' ');
    std::string_view tag =
        space == std::string_view::npos ? before : before.substr(space + 1);
    std::string_view daemon = TagDaemon(tag);
    if (!daemon.empty() && daemon != "qmgr") return std::nullopt;
    // The address may hold '>' ("a>b"@example.org): it ends where qmgr's
    // next field begins.
    const std::size_t begin = at + kFrom.size();
    std::size_t end = line.find(">, size=", begin);
    if (end == std::string_view::npos) end = line.find(">, status=", begin);
    if (end == std::string_view::npos) continue;
    if (end == begin) return std::string_view("<>");
    return line.substr(begin, end - begin);
  }
  return std::nullopt;
}

// Whether an address-list reading of `line` is implausible because it is
// the start of a log: a syslog tag ("]: ") or an RFC 5424 "<PRI>1 ".
bool LooksLikeLogLine(std::string_view line) {
  if (line.find("]: ") != std::string_view::npos) return true;
  return line.size() > 3 && line[0] == '<' && line[1] >= '0' &&
         line[1] <= '9';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// gzip data (one or more members, as cat a.gz b.gz makes) inflated.
Result<std::string> Gunzip(std::string_view bytes, std::string_view name) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    return Status::IoError("inflate " + std::string(name), ENOMEM);
  }
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;
    if (z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_DATA_ERROR;  // the input ended inside a member: truncated
      break;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    return Status::ParseError(std::string(name) +
                              ": damaged or truncated gzip data");
  }
  return out;
}

}  // namespace

Result<SenderList> ParseSenderList(std::string_view bytes,
                                   std::string_view name) {
  SenderList list;
  std::string inflated;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    Result<std::string> text = Gunzip(bytes, name);
    if (!text) return text.error();
    inflated = std::move(text).value();
    bytes = inflated;
    list.gzip = true;
  }
  if (std::size_t nul = bytes.find('\0'); nul != std::string_view::npos) {
    std::size_t line = 1;
    for (std::size_t i = 0; i < nul; ++i) line += bytes[i] == '\n';
    return Status::ParseError(std::string(name) + ":" + std::to_string(line) +
                              ": a NUL byte: not a text file");
  }
  // One pass reads both ways; the content decides which one is kept.
  std::vector<std::string> addresses;
  std::unordered_set<std::string_view> seen;
  std::vector<std::string_view> logged;
  bool first_meaningful = true;
  bool log_start = false;
  for (std::size_t start = 0; start < bytes.size();) {
    std::size_t nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) nl = bytes.size();
    std::string_view line = bytes.substr(start, nl - start);
    start = nl + 1;
    if (std::optional<std::string_view> sender = QmgrSender(line)) {
      ++list.log_lines;
      if (seen.insert(*sender).second) logged.push_back(*sender);
      continue;
    }
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (first_meaningful) log_start = LooksLikeLogLine(line);
    first_meaningful = false;
    if (list.log_lines == 0 && !log_start) addresses.emplace_back(line);
  }
  if (list.log_lines > 0 || log_start) {
    list.format = SenderListFormat::kMaillog;
    list.senders.assign(logged.begin(), logged.end());
  } else {
    list.senders = std::move(addresses);
  }
  return list;
}

Result<SenderList> ReadSenderList(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IoError("open " + path, errno);
  std::string bytes;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return Status::IoError("read " + path, err);
  return ParseSenderList(bytes, path);
}

}  // namespace mapctl
