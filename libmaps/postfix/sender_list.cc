// sender_list.cc - `--senders FILE`: an address list or a Postfix maillog,
// told apart by content (mapctl/sender_list.h).

#include "mapctl/sender_list.h"

#include <zlib.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <deque>
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

}  // namespace

struct SenderListReader::Rep {
  std::string name;
  Status status;
  bool started = false;  // the gzip magic was looked for
  std::string head;      // a lone first byte, until the second one comes
  bool gzip = false;
  z_stream z{};
  bool z_open = false;
  bool member_done = false;  // a gzip member ended with the input so far
  std::string pending;       // a line not yet ended by '\n'
  std::size_t lines = 0;     // lines ended so far
  SenderList list;
  std::deque<std::string> logged;  // stable: `seen` points into it
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> addresses;
  bool first_meaningful = true;
  bool log_start = false;

  ~Rep() {
    if (z_open) inflateEnd(&z);
  }

  void Line(std::string_view line) {
    if (std::optional<std::string_view> sender = QmgrSender(line)) {
      ++list.log_lines;
      if (seen.find(*sender) == seen.end()) {
        logged.emplace_back(*sender);
        seen.insert(logged.back());
      }
      return;
    }
    line = Trim(line);
    if (line.empty() || line.front() == '#') return;
    if (first_meaningful) log_start = LooksLikeLogLine(line);
    first_meaningful = false;
    if (list.log_lines == 0 && !log_start) addresses.emplace_back(line);
  }

  // Decompressed (or plain) text, split into lines.
  Status Text(std::string_view text) {
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
      std::size_t line = lines + 1;
      for (std::size_t i = 0; i < nul; ++i) line += text[i] == '\n';
      return Status::ParseError(name + ":" + std::to_string(line) +
                                ": a NUL byte: not a text file");
    }
    std::size_t start = 0;
    if (!pending.empty()) {
      const std::size_t nl = text.find('\n');
      if (nl == std::string_view::npos) {
        pending.append(text);
        return Status::Ok();
      }
      pending.append(text.substr(0, nl));
      Line(pending);
      ++lines;
      pending.clear();
      start = nl + 1;
    }
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string_view::npos;
         start = nl + 1) {
      Line(text.substr(start, nl - start));
      ++lines;
    }
    pending.append(text.substr(start));
    return Status::Ok();
  }

  // gzip data, one or more members (as `cat a.gz b.gz` makes them).
  Status Inflate(std::string_view bytes) {
    if (!z_open) {
      if (inflateInit2(&z, 15 + 16) != Z_OK) {
        return Status::IoError("inflate " + name, ENOMEM);
      }
      z_open = true;
    }
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    char buf[1 << 16];
    // Until the input is used up and the output buffer was not filled
    // (a full buffer may leave output inside zlib).
    for (bool full = false; z.avail_in > 0 || full;) {
      if (member_done) {
        if (z.avail_in == 0) break;
        if (inflateReset(&z) != Z_OK) break;  // the next member follows
        member_done = false;
      }
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      const int rc = inflate(&z, Z_NO_FLUSH);
      full = z.avail_out == 0;
      MAPCTL_RETURN_IF_ERROR(
          Text(std::string_view(buf, sizeof buf - z.avail_out)));
      if (rc == Z_STREAM_END) {
        member_done = true;
      } else if (rc == Z_BUF_ERROR) {
        break;  // no progress without more input
      } else if (rc != Z_OK) {
        return Status::ParseError(name + ": damaged gzip data");
      }
    }
    return Status::Ok();
  }

  Status Add(std::string_view bytes) {
    if (!started) {
      // gzip is told by its first two bytes, which may come one by one.
      const std::size_t take = std::min(bytes.size(), 2 - head.size());
      head.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (head.size() < 2) return Status::Ok();
      started = true;
      gzip = static_cast<unsigned char>(head[0]) == 0x1f &&
             static_cast<unsigned char>(head[1]) == 0x8b;
      const std::string first = std::move(head);
      head.clear();
      MAPCTL_RETURN_IF_ERROR(gzip ? Inflate(first) : Text(first));
    }
    if (bytes.empty()) return Status::Ok();
    return gzip ? Inflate(bytes) : Text(bytes);
  }
};

SenderListReader::SenderListReader(std::string name) : rep_(new Rep) {
  rep_->name = std::move(name);
}

SenderListReader::~SenderListReader() { delete rep_; }

Status SenderListReader::Add(std::string_view bytes) {
  if (rep_->status.ok()) rep_->status = rep_->Add(bytes);
  return rep_->status;
}

Result<SenderList> SenderListReader::Finish() {
  Rep& r = *rep_;
  if (r.status.ok() && !r.started && !r.head.empty()) {
    r.started = true;
    r.status = r.Text(r.head);
  }
  if (!r.status.ok()) return r.status;
  if (r.gzip && !r.member_done) {
    return Status::ParseError(r.name + ": damaged or truncated gzip data");
  }
  if (!r.pending.empty()) r.Line(r.pending);  // a last line without '\n'
  SenderList list = std::move(r.list);
  list.gzip = r.gzip;
  if (list.log_lines > 0 || r.log_start) {
    list.format = SenderListFormat::kMaillog;
    list.senders.reserve(r.logged.size());
    for (std::string& s : r.logged) list.senders.push_back(std::move(s));
  } else {
    list.senders = std::move(r.addresses);
  }
  r.status = Status::InvalidArgument("SenderListReader: Finish() was called");
  return list;
}

Result<SenderList> ParseSenderList(std::string_view bytes,
                                   std::string_view name) {
  SenderListReader reader{std::string(name)};
  MAPCTL_RETURN_IF_ERROR(reader.Add(bytes));
  return reader.Finish();
}

Result<SenderList> ReadSenderList(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IoError("open " + path, errno);
  SenderListReader reader(path);
  char buf[1 << 16];
  std::size_t n;
  Status added;
  while (added.ok() && (n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    added = reader.Add(std::string_view(buf, n));
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return Status::IoError("read " + path, err);
  MAPCTL_RETURN_IF_ERROR(added);
  return reader.Finish();
}

}  // namespace mapctl
