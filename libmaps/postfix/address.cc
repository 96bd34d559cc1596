// postfix/address.cc - address quoting, sender parsing and rewriting, query keys.
//
// Our own implementation of behaviour observed in and read from Postfix
// 3.7: global/quote_822_local.c, tok822_parse.c, split_addr.c,
// strip_addr.c, mail_addr_find.c, resolve_local.c, trivial-rewrite/
// rewrite.c and cleanup/cleanup_addr.c.

#include "mapctl/address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mapctl/config.h"
#include "mapctl/fold.h"

namespace mapctl {
namespace {

bool IsSpaceTabCrLf(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsPostfixSpace(unsigned char c) {
  return IsSpaceTabCrLf(c) || c == '\v' || c == '\f';
}

bool IsCntrl(unsigned char c) { return c < 0x20 || c == 0x7f; }

unsigned char AsciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsPostfixSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPostfixSpace(s.back())) s.remove_suffix(1);
  return s;
}

// ------------------------------------------------------------ RFC 822 tokens
// A flat token list as global/tok822_parse.c's scanner makes it. Operators
// are their own byte; the other kinds are above 0xff.

enum TokenType : int {
  kAtom = 0x100,
  kQuoted,
  kDomainLiteral,
  kComment,
};

struct Token {
  int type;
  std::string text;
  bool scanned = true;  // false for tokens the rewriting moved or added
};

// RFC 822 specials plus '%', '!' and '|', as Postfix's scanner has them.
constexpr std::string_view kOperators = "|%!()<>@,;:\\\".[]";

bool IsOperator(unsigned char c) {
  return c != 0 && kOperators.find(static_cast<char>(c)) != std::string::npos;
}

bool IsWord(int type) {
  return type == kAtom || type == kQuoted || type == kDomainLiteral;
}

// Collects bytes up to `stop` (a terminator, or any operator/space for an
// atom), dropping backslashes before escaped bytes and turning whitespace
// into spaces. Leaves *i at the terminator.
template <typename Stop>
void Collect(std::string_view s, std::size_t* i, std::string* out, Stop stop) {
  while (*i < s.size()) {
    unsigned char c = s[*i];
    if (c == '\\') {
      if (++*i >= s.size()) break;
      c = s[*i];
    } else if (stop(c)) {
      break;
    }
    out->push_back(IsSpaceTabCrLf(c) ? ' ' : static_cast<char>(c));
    ++*i;
  }
}

void Scan(std::string_view s, std::vector<Token>* tokens) {
  tokens->clear();
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i++];
    if (IsSpaceTabCrLf(c)) continue;
    Token t{kAtom, {}};
    if (c == '(') {
      // Comments nest and keep their external form.
      t.type = kComment;
      t.text.push_back('(');
      int level = 1;
      while (i < s.size()) {
        char ch = s[i++];
        t.text.push_back(ch);
        if (ch == '(') {
          ++level;
        } else if (ch == ')') {
          if (--level == 0) break;
        } else if (ch == '\\') {
          if (i >= s.size()) break;
          t.text.push_back(s[i++]);
        }
      }
    } else if (c == '[') {
      t.type = kDomainLiteral;
      Collect(s, &i, &t.text, [](unsigned char ch) { return ch == ']'; });
      if (i < s.size()) ++i;
    } else if (c == '"') {
      t.type = kQuoted;
      Collect(s, &i, &t.text, [](unsigned char ch) { return ch == '"'; });
      if (i < s.size()) ++i;
    } else if (c != '\\' && IsOperator(c)) {
      t.type = c;
    } else {
      --i;  // a backslash may start an atom
      Collect(s, &i, &t.text, [](unsigned char ch) {
        return IsSpaceTabCrLf(ch) || IsOperator(ch);
      });
      // An atom made of escaped specials needs quotes when shown again.
      for (unsigned char ch : t.text) {
        if (ch == ' ' || IsCntrl(ch) || IsOperator(ch)) {
          t.type = kQuoted;
          break;
        }
      }
    }
    tokens->push_back(std::move(t));
  }
}

void AppendToken(const Token& t, std::string* out) {
  switch (t.type) {
    case kAtom:
    case kQuoted:
    case kComment:
      out->append(t.text);
      break;
    case kDomainLiteral:
      out->push_back('[');
      out->append(t.text);
      out->push_back(']');
      break;
    default:
      out->push_back(static_cast<char>(t.type));
  }
}

// Internal form of a token list. Adjacent words that came straight from
// the scanner are separated by a space, as tok822_internalize does for
// tokens that belong to no address node.
std::string Internalize(const std::vector<Token>& tokens, std::size_t begin,
                        std::size_t end, bool spaces) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    AppendToken(tokens[i], &out);
    if (spaces && i + 1 < end && tokens[i].scanned &&
        (IsWord(tokens[i].type) || tokens[i].type == kComment) &&
        (IsWord(tokens[i + 1].type) || tokens[i + 1].type == kComment)) {
      out.push_back(' ');
    }
  }
  return out;
}

// Input checks that Postfix does not make but a command line should.
Status CheckSenderText(std::string_view text) {
  if (text.size() > kMaxAddressLength) {
    return Status::InvalidArgument(
        "address is too long (" + std::to_string(text.size()) +
        " bytes; at most " + std::to_string(kMaxAddressLength) + ")");
  }
  if (!IsAscii(text) && !IsValidUtf8(text)) {
    return Status::InvalidArgument("address is not valid UTF-8");
  }
  int comment = 0;
  int angle = 0;
  bool quoted = false;
  bool literal = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (IsCntrl(c) && c != '\t') {
      return Status::InvalidArgument(
          "address contains a control character at column " +
          std::to_string(i + 1));
    }
    if (c == '\\') {
      if (++i >= text.size()) {
        return Status::InvalidArgument("address ends in a backslash");
      }
      continue;
    }
    if (quoted) {
      if (c == '"') quoted = false;
    } else if (comment > 0) {
      if (c == '(') ++comment;
      if (c == ')') --comment;
    } else if (literal) {
      if (c == ']') literal = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      comment = 1;
    } else if (c == ')') {
      return Status::InvalidArgument("unbalanced ')' at column " +
                                     std::to_string(i + 1));
    } else if (c == '[') {
      literal = true;
    } else if (c == ']') {
      return Status::InvalidArgument("unbalanced ']' at column " +
                                     std::to_string(i + 1));
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (--angle < 0) {
        return Status::InvalidArgument("unbalanced '>' at column " +
                                       std::to_string(i + 1));
      }
    }
  }
  if (quoted) return Status::InvalidArgument("unbalanced '\"' in address");
  if (comment > 0) return Status::InvalidArgument("unbalanced '(' in address");
  if (literal) return Status::InvalidArgument("unbalanced '[' in address");
  if (angle > 0) return Status::InvalidArgument("unbalanced '<' in address");
  return Status::Ok();
}

}  // namespace

// ------------------------------------------------------------------ quoting

namespace {

// quote_822_local's test: may this localpart appear without quotes?
bool IsDotAtom(std::string_view local) {
  if (local.empty() || local.front() == '.' || local.back() == '.') {
    return false;
  }
  for (std::size_t i = 0; i < local.size(); ++i) {
    unsigned char c = local[i];
    if (c == '.' && i + 1 < local.size() && local[i + 1] == '.') return false;
    if (c == ' ' || IsCntrl(c)) return false;
    switch (c) {
      case '(':
      case ')':
      case '<':
      case '>':
      case '@':
      case ',':
      case ';':
      case ':':
      case '\\':
      case '"':
      case '[':
      case ']':
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

void AppendExternalForm(std::string_view address, bool bare_localpart,
                        std::string* out) {
  // A source route ("@a,@b:user@c") stays outside the quotes.
  std::size_t start = 0;
  if (!address.empty() && address.front() == '@') {
    if (std::size_t colon = address.find(':'); colon != address.npos) {
      start = colon + 1;
    }
  }
  std::string_view rest = address.substr(start);
  std::size_t end = rest.size();
  if (!bare_localpart) {
    if (std::size_t at = rest.rfind('@'); at != rest.npos) end = at;
  }
  std::string_view local = rest.substr(0, end);
  if (IsDotAtom(local)) {
    out->append(address);
    return;
  }
  out->append(address.substr(0, start));
  out->push_back('"');
  for (char c : local) {
    if (c == '"' || c == '\\' || c == '\r') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
  out->append(rest.substr(end));
}

std::string ExternalForm(std::string_view address, bool bare_localpart) {
  std::string out;
  AppendExternalForm(address, bare_localpart, &out);
  return out;
}

std::string InternalForm(std::string_view address) {
  std::string out;
  std::size_t start = 0;
  if (!address.empty() && address.front() == '@') {
    if (std::size_t colon = address.find(':'); colon != address.npos) {
      start = colon + 1;
      out.append(address.substr(0, start));
    }
  }
  bool quoted = false;
  std::size_t bare_at_out = std::string::npos;
  std::size_t bare_at_in = 0;
  for (std::size_t i = start; i < address.size(); ++i) {
    char c = address[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (c == '@') {
      if (!quoted) {
        bare_at_out = out.size();
        bare_at_in = i;
      }
    } else if (c == '\\' && i + 1 < address.size()) {
      c = address[++i];
    }
    out.push_back(c);
  }
  // The domain after the last unquoted '@' is taken as written.
  if (bare_at_out != std::string::npos) {
    out.resize(bare_at_out);
    out.append(address.substr(bare_at_in));
  }
  return out;
}

// ------------------------------------------------------------ configuration

Result<std::string> ReadTextFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path, errno);
  std::string data;
  char buf[4096];
  while (data.size() < 65536) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status::IoError("read " + path, e);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

Result<std::string> ResolveMyorigin(std::string_view value,
                                    const FileReader& read) {
  value = Trim(value);
  if (value.empty() || value.front() != '/') return std::string(value);
  // Debian's Postfix reads the domain from the file's first line
  // (debian/README.Debian, "myorigin = /etc/mailname").
  std::string path(value);
  if (!read) {
    return Status::InvalidArgument("myorigin names a file (" + path +
                                   ") but no file reader was given");
  }
  Result<std::string> text = read(path);
  if (!text) return std::move(text).error();
  std::string_view first = *text;
  if (std::size_t nl = first.find('\n'); nl != first.npos) {
    first = first.substr(0, nl);
  }
  first = Trim(first);
  if (first.empty()) {
    return Status::ParseError("myorigin file " + path +
                              ": first line is empty");
  }
  return std::string(first);
}

Result<AddressRewriteOptions> RewriteOptionsFromConfig(const MainConfig& config,
                                                       const FileReader& read) {
  AddressRewriteOptions o;
  o.swap_bangpath = config.GetBool("swap_bangpath");
  // allow_percent_hack defaults to yes (postconf(5)); the config layer may
  // not know it.
  o.allow_percent_hack = config.GetRaw("allow_percent_hack").empty()
                             ? true
                             : config.GetBool("allow_percent_hack");
  o.append_at_myorigin = config.GetBool("append_at_myorigin");
  o.append_dot_mydomain = config.GetBool("append_dot_mydomain");
  Result<std::string> origin = ResolveMyorigin(config.Get("myorigin"), read);
  if (!origin) return std::move(origin).error();
  o.myorigin = std::move(*origin);
  o.mydomain = config.Get("mydomain");
  return o;
}

// ------------------------------------------------------- sender parsing

Result<std::string> ParseSendmailSender(std::string_view text, bool* several) {
  if (several != nullptr) *several = false;
  MAPCTL_RETURN_IF_ERROR(CheckSenderText(text));

  std::vector<Token> all;
  Scan(text, &all);
  // Comments are moved out of addresses by tok822_parse: drop them.
  std::vector<Token> tokens;
  tokens.reserve(all.size());
  for (Token& t : all) {
    if (t.type != kComment) tokens.push_back(std::move(t));
  }

  // Group the tokens into addresses from right to left the way
  // tok822_parse does: "<...>" is an address and the phrase before it is
  // not; ',' and ';' separate; two adjacent words start a new address;
  // "name:" opens a group.
  struct Range {
    long begin;
    long end;
  };
  std::vector<Range> found;  // right to left
  auto group = [&](long left, long right) {
    if (left + 1 < right) found.push_back({left + 1, right});
  };
  constexpr int kDoWord = 1;
  constexpr int kDoGroup = 2;
  int state = kDoWord;
  long right = static_cast<long>(tokens.size());
  long i = right - 1;
  auto stops_phrase = [&](long k) {
    int t = tokens[k].type;
    return t == '>' || t == ';' || t == ',' || t == ':';
  };
  while (i >= 0) {
    int t = tokens[i].type;
    if (t == ';') {
      group(i, right);
      right = i;
      state = kDoGroup | kDoWord;
      --i;
    } else if (t == ':' && (state & kDoGroup) != 0) {
      group(i, right);
      long j = i;
      while (j >= 0 && tokens[j].type != ',') --j;
      right = j;
      i = j;
    } else if (t == '>') {
      group(i, right);
      long j = i - 1;
      while (j >= 0 && tokens[j].type != '<') --j;
      group(j, i);
      long k = j;
      while (k >= 0 && !stops_phrase(k)) --k;
      right = k;
      i = k;
      state |= kDoWord;
    } else if (IsWord(t)) {
      if ((state & kDoWord) == 0) {
        group(i, right);
        right = i + 1;
      }
      state &= ~kDoWord;
      --i;
    } else if (t == ',') {
      group(i, right);
      right = i;
      state |= kDoWord;
      --i;
    } else {
      state |= kDoWord;
      --i;
    }
  }
  group(-1, right);

  if (several != nullptr) *several = found.size() > 1;
  if (found.empty()) return std::string();  // "<>" or nothing: null sender
  const Range& first = found.back();
  return Internalize(tokens, static_cast<std::size_t>(first.begin),
                     static_cast<std::size_t>(first.end), false);
}

std::string RewriteLocalAddress(std::string_view internal,
                                const AddressRewriteOptions& options) {
  // cleanup_rewrite_internal: quote, let trivial-rewrite work on tokens,
  // unquote.
  std::vector<Token> tokens;
  Scan(ExternalForm(internal), &tokens);

  auto added = [](int type, std::string text = {}) {
    return Token{type, std::move(text), false};
  };
  auto append_scanned = [&](std::string_view text) {
    std::vector<Token> more;
    Scan(text, &more);
    for (Token& t : more) {
      t.scanned = false;
      tokens.push_back(std::move(t));
    }
  };
  auto find_last = [&](int type) -> long {
    for (long k = static_cast<long>(tokens.size()) - 1; k >= 0; --k) {
      if (tokens[k].type == type) return k;
    }
    return -1;
  };

  // rewrite.c: the empty address stays empty; a lone '@' becomes empty.
  if (tokens.empty() || (tokens.size() == 1 && tokens[0].type == kQuoted &&
                         tokens[0].text.empty())) {
    return std::string();
  }
  if (tokens.size() == 1 && tokens[0].type == '@') return std::string();

  // Strip a source route: "@a,@b:user@c" -> "user@c".
  if (tokens.front().type == '@') {
    for (std::size_t k = 1; k + 1 < tokens.size(); ++k) {
      if (tokens[k].type == ':') {
        tokens.erase(tokens.begin(), tokens.begin() + k + 1);
        break;
      }
    }
  }

  if (find_last('@') < 0) {
    long bang = -1;
    for (std::size_t k = 0; k < tokens.size(); ++k) {
      if (tokens[k].type == '!') {
        bang = static_cast<long>(k);
        break;
      }
    }
    long percent = find_last('%');
    if (options.swap_bangpath && bang >= 0) {
      // site!user -> user@site (only the first '!' moves).
      std::vector<Token> site(tokens.begin(), tokens.begin() + bang);
      std::vector<Token> rest(tokens.begin() + bang + 1, tokens.end());
      tokens.clear();
      for (Token& t : rest) {
        t.scanned = false;
        tokens.push_back(std::move(t));
      }
      tokens.push_back(added('@'));
      for (Token& t : site) tokens.push_back(std::move(t));
    } else if (options.allow_percent_hack && percent >= 0) {
      tokens[percent].type = '@';
    } else if (options.append_at_myorigin && !options.myorigin.empty()) {
      tokens.push_back(added('@'));
      append_scanned(options.myorigin);
    }
  }

  // Append .mydomain to a domain without dots (not to "x@" or literals).
  long at = find_last('@');
  if (options.append_dot_mydomain && !options.mydomain.empty() && at >= 0 &&
      at + 1 < static_cast<long>(tokens.size())) {
    bool dotted = false;
    for (std::size_t k = at; k < tokens.size(); ++k) {
      if (tokens[k].type == '.' || tokens[k].type == kDomainLiteral) {
        dotted = true;
      }
    }
    if (!dotted) {
      tokens.push_back(added('.'));
      append_scanned(options.mydomain);
    }
  }

  // One trailing dot goes, but not from "..", "@." or a lone ".".
  if (tokens.size() >= 2 && tokens.back().type == '.' &&
      tokens[tokens.size() - 2].type != '.' &&
      tokens[tokens.size() - 2].type != '@') {
    tokens.pop_back();
  }

  std::string flat = Internalize(tokens, 0, tokens.size(), true);
  // trivial-rewrite answers in external form; cleanup unquotes it.
  return InternalForm(ExternalForm(flat));
}

namespace {

// A sender that parsing and cleanup's rewriting leave exactly as it is:
// letters, digits and ._+-= in a local part that is a dot-atom, one '@',
// and a domain with a dot and no trailing dot. No bang path, no percent
// hack, nothing to append, nothing to quote, not MAILER-DAEMON. Most map
// keys look like this; check resolves a million of them.
bool IsPlainAddress(std::string_view text) {
  std::size_t at = text.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= text.size() ||
      text.size() > 255) {
    return false;
  }
  std::string_view local = text.substr(0, at);
  std::string_view domain = text.substr(at + 1);
  auto dot_string = [](std::string_view part, bool is_domain) {
    if (part.front() == '.' || part.back() == '.') return false;
    char prev = 0;
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                (!is_domain && (c == '_' || c == '+' || c == '='));
      if (!ok || (c == '.' && prev == '.')) return false;
      prev = c;
    }
    return true;
  };
  return dot_string(local, false) && dot_string(domain, true) &&
         domain.find('.') != std::string_view::npos &&
         !EqualsIgnoreCase(local, "MAILER-DAEMON");
}

}  // namespace

Result<CanonicalSender> CanonicalizeSender(
    std::string_view text, const AddressRewriteOptions& options) {
  CanonicalSender s;
  s.input = std::string(text);
  if (IsPlainAddress(text)) {
    s.parsed = s.input;
    s.internal = s.input;
    s.external = s.input;
    return s;
  }
  Result<std::string> parsed = ParseSendmailSender(text, &s.several_addresses);
  if (!parsed) return std::move(parsed).error();
  s.parsed = std::move(*parsed);
  s.internal = RewriteLocalAddress(s.parsed, options);
  // cleanup_addr.c: MAILER-DAEMON@$myorigin, after rewriting, any case,
  // is the null sender.
  constexpr std::string_view kMailerDaemonAt = "MAILER-DAEMON@";
  if (StartsWithIgnoreCase(s.internal, kMailerDaemonAt) &&
      EqualsIgnoreCase(s.internal,
                       RewriteLocalAddress("MAILER-DAEMON", options))) {
    s.internal.clear();
    s.mailer_daemon = true;
  }
  s.null_sender = s.internal.empty();
  s.external = s.null_sender ? "<>" : ExternalForm(s.internal);
  return s;
}

// ---------------------------------------------------------------- extensions

bool SplitExtension(std::string_view address, const ExtensionOptions& options,
                    std::string* base, std::string* extension) {
  const std::string& delims = options.recipient_delimiter;
  if (delims.empty() || address.find_first_of(delims) == address.npos) {
    return false;
  }
  std::size_t at = address.rfind('@');
  std::string_view local = address.substr(0, at);
  // split_addr.c: these are never split.
  if (EqualsIgnoreCase(local, "postmaster") ||
      EqualsIgnoreCase(local, "MAILER-DAEMON") ||
      EqualsIgnoreCase(local, options.double_bounce_sender)) {
    return false;
  }
  if (delims.find('-') != std::string::npos && options.owner_request_special) {
    if (StartsWithIgnoreCase(local, "owner-")) return false;
    if (local.size() > 8 &&
        EqualsIgnoreCase(local.substr(local.size() - 8), "-request")) {
      return false;
    }
  }
  std::size_t cut = local.find_first_of(delims);
  if (cut == 0 || cut == local.npos) return false;
  extension->assign(local.substr(cut));
  base->assign(local.substr(0, cut));
  if (at != address.npos) base->append(address.substr(at));
  return true;
}

// ------------------------------------------------------------- local domains

namespace {

// Normalized text of an IP address, or "" when `text` is not one.
std::string NormalizeIp(std::string_view text) {
  if (StartsWithIgnoreCase(text, "ipv6:")) text.remove_prefix(5);
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  }
  return "";
}

bool IsLoopback(std::string_view ip) {
  return ip == "::1" || ip.substr(0, 4) == "127.";
}

// Splits a Postfix list on commas and whitespace, keeping {...} together.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    if (c == ',' || IsPostfixSpace(c)) {
      ++i;
      continue;
    }
    std::size_t start = i;
    int depth = 0;
    while (i < text.size()) {
      unsigned char d = text[i];
      if (d == '{') ++depth;
      if (d == '}' && depth > 0) --depth;
      if (depth == 0 && (d == ',' || IsPostfixSpace(d))) break;
      ++i;
    }
    out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

}  // namespace

LocalDomainMatcher::LocalDomainMatcher(std::string myorigin,
                                       std::string_view mydestination,
                                       std::string_view inet_interfaces,
                                       std::string_view proxy_interfaces,
                                       OwnAddressFn own_address)
    : myorigin_(std::move(myorigin)), own_address_(std::move(own_address)) {
  for (std::string& e : SplitList(mydestination)) {
    std::string_view body = e;
    if (!body.empty() && body.front() == '!') body.remove_prefix(1);
    if (!body.empty() && (body.front() == '/' || body.find(':') != body.npos)) {
      unevaluated_.push_back(e);
    } else {
      names_.push_back(std::move(e));
    }
  }
  auto add_interfaces = [&](std::string_view list) {
    for (const std::string& e : SplitList(list)) {
      if (EqualsIgnoreCase(e, "all")) {
        all_interfaces_ = true;
      } else if (EqualsIgnoreCase(e, "loopback-only")) {
        loopback_only_ = true;
      } else if (std::string ip = NormalizeIp(e); !ip.empty()) {
        interface_addrs_.push_back(ip);
      } else {
        interfaces_unknown_ = true;  // a host name: needs DNS
      }
    }
  };
  add_interfaces(inet_interfaces);
  add_interfaces(proxy_interfaces);
  if (all_interfaces_ && !own_address_) interfaces_unknown_ = true;
}

bool LocalDomainMatcher::MatchesInterfaces(std::string_view ip) const {
  for (const std::string& a : interface_addrs_) {
    if (a == ip) return true;
  }
  if ((loopback_only_ || all_interfaces_) && IsLoopback(ip)) return true;
  if (all_interfaces_ && own_address_) return own_address_(ip);
  return false;
}

bool LocalDomainMatcher::IsLocal(std::string_view domain) const {
  // mail_addr_find.c compares with $myorigin first, as written.
  if (!myorigin_.empty() && EqualsIgnoreCase(domain, myorigin_)) return true;
  // resolve_local.c: one trailing dot, but not "..".
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.back() == '.') return false;
  // match_list: the first entry that matches decides; "!x" says no.
  for (const std::string& e : names_) {
    bool negated = !e.empty() && e.front() == '!';
    std::string_view name = negated ? std::string_view(e).substr(1) : e;
    if (EqualsIgnoreCase(name, domain)) return !negated;
  }
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    std::string ip = NormalizeIp(domain.substr(1, domain.size() - 2));
    if (!ip.empty()) return MatchesInterfaces(ip);
  }
  return false;
}

// ---------------------------------------------------------------- query keys

std::string_view KeyStepName(KeyStep step) noexcept {
  switch (step) {
    case KeyStep::kFull:
      return "full";
    case KeyStep::kNoExt:
      return "noext";
    case KeyStep::kLocalpart:
      return "localpart";
    case KeyStep::kLocalpartNoExt:
      return "localpart_noext";
    case KeyStep::kAtDomain:
      return "at_domain";
  }
  return "unknown";
}

QueryKey& SenderKeys::Next() {
  if (size_ == keys_.size()) keys_.emplace_back();
  return keys_[size_++];
}

void SenderKeys::AddBothForms(std::string_view internal, KeyStep step,
                              bool partial, bool bare_localpart) {
  // mail_addr_find.c find_addr(), "external-first": the quoted form, then
  // the unquoted one if it is a different string.
  scratch_.clear();
  AppendExternalForm(internal, bare_localpart, &scratch_);
  bool differs = scratch_ != internal;
  QueryKey& ext = Next();
  ext.key.assign(scratch_);
  ext.step = step;
  ext.partial = partial;
  ext.external = differs;
  if (differs) {
    QueryKey& in = Next();
    in.key.assign(internal);
    in.step = step;
    in.partial = partial;
    in.external = false;
  }
}

void SenderKeys::Build(std::string_view address,
                       const SenderKeyOptions& options) {
  size_ = 0;
  extension_.clear();
  if (address.empty()) return;
  bool has_base =
      SplitExtension(address, options.extension, &base_, &extension_);
  AddBothForms(address, KeyStep::kFull, false, false);
  if (has_base) AddBothForms(base_, KeyStep::kNoExt, true, false);
  std::size_t at = address.rfind('@');
  if (at == address.npos) return;
  if (options.local != nullptr &&
      options.local->IsLocal(address.substr(at + 1))) {
    AddBothForms(address.substr(0, at), KeyStep::kLocalpart, true, true);
    if (has_base) {
      std::string_view base = base_;
      AddBothForms(base.substr(0, base.rfind('@')), KeyStep::kLocalpartNoExt,
                   true, true);
    }
  }
  // "@domain" is looked up as is, never quoted.
  QueryKey& d = Next();
  d.key.assign(address.substr(at));
  d.step = KeyStep::kAtDomain;
  d.partial = true;
  d.external = false;
}

}  // namespace mapctl
