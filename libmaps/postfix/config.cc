// postfix/config.cc - main.cf reading and $name expansion (postconf(5)).

#include "mapctl/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>

#include "util/ascii.h"

namespace mapctl {
namespace {

// Postfix 3.7's built-in defaults (postconf -d) for the parameters mapctl
// reads. Host-dependent ones (myhostname) are overridden by the caller.
struct Default {
  const char* name;
  const char* value;
};
constexpr Default kDefaults[] = {
    {"alias_database", "hash:/etc/aliases"},
    {"allow_percent_hack", "yes"},
    {"alias_maps", "hash:/etc/aliases, nis:mail.aliases"},
    {"append_at_myorigin", "yes"},
    {"append_dot_mydomain",
     "${{$compatibility_level} <level {1} ? {yes} : {no}}"},
    {"canonical_maps", ""},
    {"compatibility_level", "0"},
    {"config_directory", "/etc/postfix"},
    {"default_database_type", "hash"},
    {"default_transport", "smtp"},
    {"disable_dns_lookups", "no"},
    {"double_bounce_sender", "double-bounce"},
    {"empty_address_default_transport_maps_lookup_key", "<>"},
    {"empty_address_relayhost_maps_lookup_key", "<>"},
    {"fallback_relay", ""},
    {"inet_interfaces", "all"},
    {"lmdb_map_size", "16777216"},
    {"lmtp_sasl_password_maps", ""},
    {"local_transport", "local:$myhostname"},
    {"mail_owner", "postfix"},
    {"masquerade_domains", ""},
    {"mydestination", "$myhostname, localhost.$mydomain, localhost"},
    {"myhostname", "localhost.localdomain"},
    {"myorigin", "$myhostname"},
    {"owner_request_special", "yes"},
    {"parent_domain_matches_subdomains",
     "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
     "qmqpd_authorized_clients,relay_domains,smtpd_access_maps"},
    {"proxy_interfaces", ""},
    // proxymap(8) serves only the tables these parameters name.
    {"proxy_read_maps",
     "$local_recipient_maps $mydestination $virtual_alias_maps "
     "$virtual_alias_domains $virtual_mailbox_maps "
     "$virtual_mailbox_domains $relay_recipient_maps $relay_domains "
     "$canonical_maps $sender_canonical_maps $recipient_canonical_maps "
     "$relocated_maps $transport_maps $mynetworks "
     "$smtpd_sender_login_maps $sender_bcc_maps $recipient_bcc_maps "
     "$smtp_generic_maps $lmtp_generic_maps $alias_maps "
     "$smtpd_client_restrictions $smtpd_helo_restrictions "
     "$smtpd_sender_restrictions $smtpd_relay_restrictions "
     "$smtpd_recipient_restrictions "
     "$address_verify_sender_dependent_default_transport_maps "
     "$address_verify_sender_dependent_relayhost_maps "
     "$address_verify_transport_maps $fallback_transport_maps "
     "$lmtp_discard_lhlo_keyword_address_maps $lmtp_pix_workaround_maps "
     "$lmtp_sasl_password_maps $lmtp_tls_policy_maps "
     "$mailbox_command_maps $mailbox_transport_maps "
     "$postscreen_discard_ehlo_keyword_address_maps $rbl_reply_maps "
     "$sender_dependent_default_transport_maps "
     "$sender_dependent_relayhost_maps "
     "$smtp_discard_ehlo_keyword_address_maps $smtp_pix_workaround_maps "
     "$smtp_sasl_password_maps $smtp_tls_policy_maps "
     "$smtpd_discard_ehlo_keyword_address_maps $smtpd_milter_maps "
     "$virtual_gid_maps $virtual_uid_maps $local_login_sender_maps "
     "$postscreen_reject_footer_maps $smtpd_reject_footer_maps "
     "$tls_server_sni_maps $tlsproxy_client_policy_maps "
     "$default_delivery_status_filter $lmtp_delivery_status_filter "
     "$lmtp_dns_reply_filter $lmtp_reply_filter "
     "$local_delivery_status_filter $pipe_delivery_status_filter "
     "$postscreen_command_filter $smtp_delivery_status_filter "
     "$smtp_dns_reply_filter $smtp_reply_filter $smtpd_command_filter "
     "$smtpd_dns_reply_filter $virtual_delivery_status_filter "
     "$body_checks $header_checks $lmtp_body_checks $lmtp_header_checks "
     "$lmtp_mime_header_checks $lmtp_nested_header_checks "
     "$milter_header_checks $mime_header_checks $nested_header_checks "
     "$smtp_body_checks $smtp_header_checks $smtp_mime_header_checks "
     "$smtp_nested_header_checks"},
    {"recipient_delimiter", ""},
    {"relay_domains", "${{$compatibility_level} <level {2} ? {$mydestination} : {}}"},
    {"relay_transport", "relay"},
    {"relayhost", ""},
    {"sender_canonical_maps", ""},
    {"sender_dependent_default_transport_maps", ""},
    {"sender_dependent_relayhost_maps", ""},
    {"smtp_dns_support_level", ""},
    {"smtp_fallback_relay", "$fallback_relay"},
    {"smtp_sasl_auth_enable", "no"},
    {"smtp_sasl_mechanism_filter", ""},
    {"smtp_sasl_password_maps", ""},
    {"smtp_sasl_security_options", "noplaintext, noanonymous"},
    {"smtp_sasl_tls_security_options", "$smtp_sasl_security_options"},
    {"smtp_sender_dependent_authentication", "no"},
    {"smtp_tls_policy_maps", ""},
    {"smtp_tls_security_level", ""},
    {"smtputf8_enable", "${{$compatibility_level} <level {1} ? {no} : {yes}}"},
    {"swap_bangpath", "yes"},
    {"transport_maps", ""},
    {"virtual_transport", "virtual"},
};

const char* const kKnownNames[] = {
#include "postfix_parameter_names.inc"
};

bool IsKnownParameter(std::string_view name) {
  static const std::unordered_set<std::string_view> known(
      std::begin(kKnownNames), std::end(kKnownNames));
  return known.count(name) != 0;
}

const char* BuiltinDefault(std::string_view name) {
  for (const Default& d : kDefaults) {
    if (name == d.name) return d.value;
  }
  return nullptr;
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// A compatibility level as one number, so that levels compare as numbers
// do: major, minor and patch in fields of 10 bits below the major, as
// postconf(1) reads them (observed with Postfix 3.7: each part is a
// decimal that may follow blanks and a '+', minor and patch are at most
// 1023, "3." or "3.x" or a fourth part is malformed, and so is a major
// past 2^43). Empty when malformed.
std::optional<long long> ParseCompatLevel(std::string_view text) {
  constexpr long long kMaxMajor = (1LL << 43) - 1;
  long long level = 0;
  for (int part = 0; part < 3; ++part) {
    while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const long long limit = part == 0 ? kMaxMajor : 1023;
    long long v = 0;
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      v = v * 10 + (text[digits] - '0');
      if (v > limit) return std::nullopt;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    text.remove_prefix(digits);
    level += v << (part == 0 ? 20 : part == 1 ? 10 : 0);
    if (text.empty()) return level;
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
  }
  return std::nullopt;
}

// Finds the '}' or ')' closing the group that starts at text[open].
std::size_t MatchingClose(std::string_view text, std::size_t open) {
  char o = text[open];
  char c = o == '{' ? '}' : ')';
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == o) ++depth;
    if (text[i] == c && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Reads "{...}" at *pos (after optional whitespace); returns its inside.
bool TakeBraced(std::string_view text, std::size_t* pos, std::string_view* out) {
  std::size_t p = *pos;
  while (p < text.size() && IsAsciiSpace(text[p])) ++p;
  if (p >= text.size() || text[p] != '{') return false;
  std::size_t close = MatchingClose(text, p);
  if (close == std::string_view::npos) return false;
  *out = text.substr(p + 1, close - p - 1);
  *pos = close + 1;
  return true;
}

}  // namespace

struct MainConfig::Rep {
  std::string config_dir;
  std::map<std::string, std::string, std::less<>> values;
  std::map<std::string, std::uint32_t, std::less<>> lines;  // parsed text
  mutable std::vector<Diagnostic> diagnostics;
  mutable std::map<std::string, bool, std::less<>> warned;

  std::string GetRaw(std::string_view name) const;
  bool IsSet(std::string_view name) const;
  std::string Get(std::string_view name) const;
  // mydomain's default: myhostname minus its first label, expanded one
  // level deeper than the reference to mydomain, so that a myhostname
  // that uses $mydomain ends at the depth limit instead of recursing
  // without end (docs/fuzzing.md, F1).
  std::string DefaultMydomain(int depth) const;
  // Starts an expansion from the top (Get, ExpandText).
  std::string ExpandTop(std::string_view text) const;
  std::string Expand(std::string_view text, int depth) const;

  // Set when an expansion passes the depth limit: every pending level of
  // it stops too. A value that uses itself twice ("a = $a$a") would
  // otherwise take 2^100 steps (F2); Postfix stops there as well.
  mutable bool expansion_failed = false;
};

MainConfig::MainConfig(std::string config_dir)
    : rep_(std::make_unique<Rep>()) {
  rep_->config_dir = std::move(config_dir);
  rep_->values["config_directory"] = rep_->config_dir;
}

MainConfig::~MainConfig() = default;
MainConfig::MainConfig(const MainConfig& other)
    : rep_(std::make_unique<Rep>(*other.rep_)) {}
MainConfig& MainConfig::operator=(const MainConfig& other) {
  if (this != &other) rep_ = std::make_unique<Rep>(*other.rep_);
  return *this;
}
MainConfig::MainConfig(MainConfig&&) noexcept = default;
MainConfig& MainConfig::operator=(MainConfig&&) noexcept = default;

Result<MainConfig> MainConfig::Load(const std::string& config_dir) {
  std::string path = config_dir + "/main.cf";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path, errno);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return Status::IoError("read " + path, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return Parse(text, config_dir, path);
}

MainConfig MainConfig::Parse(std::string_view text, std::string config_dir,
                             std::string_view origin) {
  MainConfig config(std::move(config_dir));
  // Logical lines: whitespace-led lines continue the previous line; '#'
  // and blank lines are skipped anywhere.
  std::string logical;
  std::uint32_t logical_line = 0;
  std::uint32_t line_no = 0;
  auto flush = [&]() {
    if (logical.empty()) return;
    std::string_view l = Trim(logical);
    std::size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      config.rep_->diagnostics.push_back(
          {Severity::kError, DiagnosticKind::kOther, std::string(origin),
           logical_line, "missing '=' after attribute name"});
    } else {
      std::string_view name = Trim(l.substr(0, eq));
      std::string_view value = Trim(l.substr(eq + 1));
      if (name.empty() ||
          !std::all_of(name.begin(), name.end(), [](char c) {
            return IsNameChar(c) || c == '-' || c == '.' || c == '/';
          })) {
        config.rep_->diagnostics.push_back(
            {Severity::kError, DiagnosticKind::kOther, std::string(origin),
             logical_line, "missing attribute name"});
      } else {
        config.rep_->values[std::string(name)] = std::string(value);
        config.rep_->lines[std::string(name)] = logical_line;
      }
    }
    logical.clear();
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(
        pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    if (IsAsciiSpace(line.front())) {
      if (logical.empty()) {
        config.rep_->diagnostics.push_back(
            {Severity::kWarning, DiagnosticKind::kLeadingWhitespace,
             std::string(origin), line_no,
             "logical line must not start with whitespace"});
        continue;
      }
      // Unlike map sources, main.cf continuations join with one space
      // (postconf prints "a,\n    b" as "a, b").
      std::string_view rest = line;
      while (!rest.empty() && IsAsciiSpace(rest.front())) rest.remove_prefix(1);
      logical.push_back(' ');
      logical.append(rest);
      continue;
    }
    flush();
    logical.assign(line);
    logical_line = line_no;
  }
  flush();
  Rep& r = *config.rep_;
  if (r.values.count("config_directory")) {
    r.config_dir = r.values["config_directory"];
  }
  return config;
}

std::string MainConfig::Rep::GetRaw(std::string_view name) const {
  if (auto it = values.find(name); it != values.end()) return it->second;
  if (const char* d = BuiltinDefault(name)) return d;
  return {};
}

bool MainConfig::Rep::IsSet(std::string_view name) const {
  return values.find(name) != values.end() && name != "config_directory";
}



std::string MainConfig::Rep::Get(std::string_view name) const {
  if (name == "mydomain" && !IsSet(name)) {
    expansion_failed = false;
    return DefaultMydomain(0);
  }
  return ExpandTop(GetRaw(name));
}

std::string MainConfig::Rep::DefaultMydomain(int depth) const {
  // Postfix derives mydomain from myhostname minus its first label.
  std::string host = Expand(GetRaw("myhostname"), depth + 1);
  std::size_t dot = host.find('.');
  return dot == std::string::npos ? "localdomain" : host.substr(dot + 1);
}

std::string MainConfig::Rep::ExpandTop(std::string_view text) const {
  expansion_failed = false;
  return Expand(text, 0);
}

bool MainConfig::GetBool(std::string_view name) const {
  std::string v = Lower(Get(name));
  if (v == "yes") return true;
  if (v != "no" && !rep_->warned[std::string(name) + "=bool"]) {
    rep_->warned[std::string(name) + "=bool"] = true;
    rep_->diagnostics.push_back({Severity::kError, DiagnosticKind::kOther,
                            rep_->config_dir + "/main.cf", 0,
                            "bad boolean configuration: " + std::string(name) +
                                " = " + v});
  }
  return false;
}

std::string MainConfig::Rep::Expand(std::string_view text, int depth) const {
  if (expansion_failed) return {};
  if (depth > 100) {
    expansion_failed = true;
    diagnostics.push_back({Severity::kError, DiagnosticKind::kOther,
                            config_dir + "/main.cf", 0,
                            "parameter expansion is too deep (a loop?)"});
    return {};
  }
  auto lookup = [&](std::string_view name) -> std::string {
    if (name == "mydomain" && !IsSet(name)) return DefaultMydomain(depth);
    if (values.find(name) == values.end() && !BuiltinDefault(name) &&
        !IsKnownParameter(name)) {
      if (!warned[std::string(name)]) {
        warned[std::string(name)] = true;
        diagnostics.push_back({Severity::kWarning, DiagnosticKind::kOther,
                                config_dir + "/main.cf", 0,
                                "undefined parameter: " + std::string(name)});
      }
      return {};
    }
    return Expand(GetRaw(name), depth + 1);
  };

  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      ++i;
      continue;
    }
    char n = text[i + 1];
    if (n == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (IsNameChar(n)) {
      std::size_t j = i + 1;
      while (j < text.size() && IsNameChar(text[j])) ++j;
      out += lookup(text.substr(i + 1, j - i - 1));
      i = j;
      continue;
    }
    if (n != '{' && n != '(') {
      out += c;
      ++i;
      continue;
    }
    std::size_t close = MatchingClose(text, i + 1);
    if (close == std::string_view::npos) {
      diagnostics.push_back({Severity::kError, DiagnosticKind::kOther,
                              config_dir + "/main.cf", 0,
                              "unbalanced '" + std::string(1, n) +
                                  "' in parameter value"});
      out.append(text.substr(i));
      break;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    i = close + 1;
    std::size_t p = 0;
    while (p < inner.size() && IsAsciiSpace(inner[p])) ++p;
    if (p < inner.size() && inner[p] == '{') {
      // ${{a} OP {b} ? {x} : {y}}
      std::string_view a, b, x, y;
      std::size_t q = p;
      if (!TakeBraced(inner, &q, &a)) continue;
      while (q < inner.size() && IsAsciiSpace(inner[q])) ++q;
      std::size_t op_start = q;
      while (q < inner.size() && !IsAsciiSpace(inner[q]) && inner[q] != '{') ++q;
      std::string_view op = inner.substr(op_start, q - op_start);
      if (!TakeBraced(inner, &q, &b)) continue;
      while (q < inner.size() && IsAsciiSpace(inner[q])) ++q;
      if (q >= inner.size() || inner[q] != '?') continue;
      ++q;
      if (!TakeBraced(inner, &q, &x)) continue;
      while (q < inner.size() && IsAsciiSpace(inner[q])) ++q;
      bool has_else = false;
      if (q < inner.size() && inner[q] == ':') {
        ++q;
        has_else = TakeBraced(inner, &q, &y);
      }
      std::string ea = Expand(a, depth + 1), eb = Expand(b, depth + 1);
      bool result = false;
      if (op == "==") {
        result = ea == eb;
      } else if (op == "!=") {
        result = ea != eb;
      } else if (op.size() > 5 && op.substr(op.size() - 5) == "level") {
        std::optional<long long> la = ParseCompatLevel(ea);
        std::optional<long long> lb = ParseCompatLevel(eb);
        if (!la || !lb) {
          // Postfix stops the whole expansion ("macro processing error").
          expansion_failed = true;
          diagnostics.push_back({Severity::kError, DiagnosticKind::kOther,
                                 config_dir + "/main.cf", 0,
                                 "malformed compatibility level syntax: \"" +
                                     Excerpt(la ? eb : ea) + "\""});
          return {};
        }
        int cmp = *la < *lb ? -1 : *la > *lb ? 1 : 0;
        std::string_view rel = op.substr(0, op.size() - 5);
        result = rel == "<"    ? cmp < 0
                 : rel == "<=" ? cmp <= 0
                 : rel == ">"  ? cmp > 0
                 : rel == ">=" ? cmp >= 0
                               : false;
      } else {
        long la = std::strtol(ea.c_str(), nullptr, 10);
        long lb = std::strtol(eb.c_str(), nullptr, 10);
        result = op == "<"    ? la < lb
                 : op == "<=" ? la <= lb
                 : op == ">"  ? la > lb
                 : op == ">=" ? la >= lb
                              : false;
      }
      if (result) {
        out += Expand(x, depth + 1);
      } else if (has_else) {
        out += Expand(y, depth + 1);
      }
      continue;
    }
    // ${name}, ${name?text}, ${name:text}, ${name?{a}:{b}}
    std::size_t j = p;
    while (j < inner.size() && IsNameChar(inner[j])) ++j;
    std::string_view name = inner.substr(p, j - p);
    std::string value = lookup(name);
    if (j >= inner.size()) {
      out += value;
      continue;
    }
    char kind = inner[j];
    std::string_view rest = inner.substr(j + 1);
    std::string_view when_set = rest, when_empty;
    bool two_way = false;
    std::size_t q = 0;
    std::string_view braced;
    if (kind == '?' && TakeBraced(rest, &q, &braced)) {
      when_set = braced;
      while (q < rest.size() && IsAsciiSpace(rest[q])) ++q;
      if (q < rest.size() && rest[q] == ':') {
        ++q;
        two_way = TakeBraced(rest, &q, &when_empty);
      }
    } else if (kind == ':' && TakeBraced(rest, &q, &braced)) {
      when_set = braced;
    }
    if (kind == '?') {
      if (!value.empty()) {
        out += Expand(when_set, depth + 1);
      } else if (two_way) {
        out += Expand(when_empty, depth + 1);
      }
    } else if (kind == ':') {
      if (value.empty()) out += Expand(when_set, depth + 1);
    } else {
      out += value;
    }
  }
  return out;
}

std::string MainConfig::Get(std::string_view name) const {
  return rep_->Get(name);
}
std::string MainConfig::ExpandText(std::string_view text) const {
  return rep_->ExpandTop(text);
}
std::string MainConfig::GetRaw(std::string_view name) const {
  return rep_->GetRaw(name);
}
bool MainConfig::IsSet(std::string_view name) const {
  return rep_->IsSet(name);
}
void MainConfig::Set(std::string name, std::string value) {
  rep_->values[std::move(name)] = std::move(value);
}
std::uint32_t MainConfig::Line(std::string_view name) const {
  auto it = rep_->lines.find(name);
  return it == rep_->lines.end() ? 0 : it->second;
}
std::vector<std::string> MainConfig::DefinedNames() const {
  std::vector<std::string> out;
  for (const auto& [name, line] : rep_->lines) out.push_back(name);
  return out;
}
std::vector<std::string> MainConfig::NamesWithPrefix(
    std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto it = rep_->values.lower_bound(prefix);
       it != rep_->values.end() &&
       it->first.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    out.push_back(it->first);
  }
  return out;
}
const std::vector<Diagnostic>& MainConfig::diagnostics() const noexcept {
  return rep_->diagnostics;
}
const std::string& MainConfig::config_directory() const noexcept {
  return rep_->config_dir;
}

FoldMode KeyFoldMode(const MainConfig& config, bool no_utf8, bool no_fold) {
  if (no_fold) return FoldMode::kNone;
  if (no_utf8) return FoldMode::kAscii;
  return config.GetBool("smtputf8_enable") ? FoldMode::kUtf8
                                            : FoldMode::kAscii;
}

bool ChecksUtf8(const MainConfig& config, bool no_utf8) {
  return !no_utf8 && config.GetBool("smtputf8_enable");
}

}  // namespace mapctl
