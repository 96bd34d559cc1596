// postfix/cleanup_rewrite.cc - cleanup(8)'s rewriting of an envelope sender
// in the "local" context (trivial-rewrite/rewrite.c) and the null-sender
// rule for MAILER-DAEMON@$myorigin (cleanup/cleanup_addr.c).

#include "mapctl/address.h"
#include "postfix/address_tokens.h"
#include "util/ascii.h"

namespace mapctl {

using tok822::kDomainLiteral;
using tok822::kQuoted;
using tok822::Scan;
using tok822::Token;
using tok822::Internalize;

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

}  // namespace mapctl
