// check/check_judge.cc - turns the gathered evidence into findings:
// relay-credentials, default-relay-credentials, null-sender and
// domain-fallthrough, each worded with why and how to fix it.

#include <algorithm>

#include "check/consistency.h"

namespace mapctl::check {
namespace {

// The library's words for the facts a caller may name its own way
// (HintCode): the next hop is given as requiring AUTH; MX host names are
// not looked up.
constexpr std::string_view kAuthRequiredWords =
    "the setup names it as requiring authentication";
constexpr std::string_view kMxUnknownWords = "without MX lookups";

}  // namespace

std::string Consistency::FallThroughNames(std::string_view domain) const {
  std::vector<std::string_view> names;
  for (const TableList* list : {&m_->relay, &m_->password}) {
    for (const ListTable& t : list->tables) {
      const MemoryTable* mt = t.entries();
      if (mt == nullptr) continue;
      for (const KeyEntry& e : mt->entries) {
        std::size_t at = e.key.rfind('@');
        if (at != std::string_view::npos && at > 0 &&
            EqualsIgnoreCase(e.key.substr(at + 1), domain)) {
          names.push_back(e.key);
        }
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string d = Excerpt(domain);
  if (names.empty()) return "every sender of " + d;
  std::string out = "senders of " + d + " other than ";
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) {
    if (i > 0) out += ", ";
    out += Excerpt(names[i]);
  }
  if (names.size() > 5) {
    out += " and " + std::to_string(names.size() - 5) + " more";
  }
  return out + " (keyed individually)";
}


void Consistency::Emit(const Candidate& c, Severity severity,
                       std::string_view check, const Location& at,
                       HintedText message) {
  if (!emitted_.emplace(at.file, at.line, std::string(check), c.nexthop)
           .second) {
    return;
  }
  m_->Add(at.file, at.line, severity, check,
          at.key.empty() ? std::nullopt : std::optional<std::string>(at.key),
          std::move(message.text), std::move(message.hints));
}

void Consistency::Judge() {
  std::set<std::string, NoCaseLess> required(m_->options->auth_required.begin(),
                                             m_->options->auth_required.end());
  bool usernames_sorted = false;  // only check 2 needs them
  const std::string relayhost = m_->config->Get("relayhost");
  for (const Candidate& c : candidates_) {
    const std::string hop = "\"" + Excerpt(c.nexthop) + "\"";
    const bool fallthrough = c.rep.kind == RepKind::kAtDomain;
    std::string sender;
    SenderOf(c.rep, &sender);
    const std::string who =
        fallthrough ? FallThroughNames(c.rep.domain())
        : c.rep.kind == RepKind::kNull ? std::string("the null sender <>")
        : sender.empty() ? std::string("every sender without a relay entry")
                         : "sender " + Excerpt(sender);
    std::string route =
        c.source == RelaySource::kSenderDependent ? "goes to " + hop
        : c.source == RelaySource::kRelayhost     ? "goes to relayhost " + hop
                                              : "goes to the recipient's MX";
    if (c.dunno) route += " (DUNNO in sender_dependent_relayhost_maps)";

    if (c.credential_key) {
      // Check 2: the sender's own credentials on the default relay.
      if (!m_->Enabled("default-relay-credentials")) continue;
      if (!usernames_sorted) {
        std::sort(relay_usernames_.begin(), relay_usernames_.end());
        usernames_sorted = true;
      }
      // Usernames are compared by hash: a collision could only turn this
      // warning into an error.
      const bool shared =
          std::binary_search(relay_usernames_.begin(), relay_usernames_.end(),
                             std::hash<std::string_view>()(c.username));
      const bool err = shared || default_has_own_credentials_;
      std::string why =
          shared ? "; the same username authenticates to a "
                   "sender_dependent_relayhost_maps destination"
          : default_has_own_credentials_
              ? "; the default relay has its own credentials, which these "
                "replace"
              : "; add a relay entry for the sender, or remove the "
                "credentials";
      std::string_view check =
          fallthrough ? "domain-fallthrough" : "default-relay-credentials";
      HintedText message;
      message += Excerpt(c.credential_key->key) + ": " + who + " " + route +
               " with the sender's credentials (no relay entry sends it to "
               "the relay they belong to)" +
               why;
      Emit(c, err ? Severity::kError : Severity::kWarning, check,
           Where(m_->password, c.credential_key), std::move(message));
      continue;
    }

    // Checks 1 and 3: a relay and no credentials for it.
    std::string_view base =
        c.rep.kind == RepKind::kNull ? "null-sender" : "relay-credentials";
    if (!m_->Enabled(base)) continue;
    const bool named = required.count(c.nexthop) != 0;
    const bool others = needs_auth_.count(c.nexthop) != 0;
    const bool ignored = c.ignored.has_value();
    // A "<>" credential entry says the admin meant the null sender's
    // relay to get credentials; it never does (smtp(8) skips the sender
    // step for <>).
    const bool null_meant = c.rep.kind == RepKind::kNull &&
                            null_credential_.has_value() &&
                            c.source != RelaySource::kRecipientDomain;
    const bool evidence = named || others || ignored || null_meant;
    if (c.note == CredentialNote::kAuthDisabled && !named && !ignored) {
      continue;
    }
    if (c.source != RelaySource::kSenderDependent && !evidence) continue;
    if (c.rep.kind == RepKind::kNull && !null_keyed_ && !evidence) continue;
    Severity sev = evidence && c.note != CredentialNote::kDependsOnMx
                       ? Severity::kError
                       : Severity::kWarning;
    std::string what =
        c.rep.kind == RepKind::kNull
            ? "no host or next-hop credentials (per-sender credentials are "
              "never used for <>)"
            : "no credentials: no key of smtp_sasl_password_maps matches the "
              "sender, the host or the next hop";
    Location at = c.relay_key ? Where(m_->relay, c.relay_key)
                  : c.rep.key.empty()
                      ? Location{m_->MainCf(), m_->ParamLine("relayhost"), ""}
                      : WhereRep(c.rep);
    std::string_view check = fallthrough ? "domain-fallthrough" : base;
    HintedText message;
    message += at.key.empty() ? "" : Excerpt(at.key) + ": ";
    message += who + " " + route + " with " + what;
    if (c.note == CredentialNote::kDependsOnMx) {
      message += "; the MX host's name could have its own entry and is not "
                 "known ";
      message.Hint(HintCode::kMxUnknown, kMxUnknownWords);
    }
    if (ignored || null_meant) {
      // The bounce Postfix would cause, why, and the fix, in one line.
      const Location entry = ignored ? Where(m_->password, c.ignored)
                                     : Where(m_->password, null_credential_);
      const std::string where =
          entry.file + (entry.line ? ":" + std::to_string(entry.line) : "");
      HintedText bounce;
      bounce += at.key.empty() ? "" : Excerpt(at.key) + ": ";
      bounce += who + " " + route + " with no credentials: ";
      if (!ignored) {
        bounce += "the entry for <> (" + where +
                  ") is never used, smtp(8) does no sender lookup for <>; "
                  "the relay answers 530 and the mail bounces (give the "
                  "relay a next-hop entry, " + hop + ", instead)";
      } else if (c.note == CredentialNote::kAuthDisabled) {
        bounce += "smtp_sasl_auth_enable = no, so smtp(8) never sends the "
                  "entry written for " +
                  std::string(c.ignored_by == MatchedBy::kSender ? "it"
                                                                 : "the relay") +
                  " (" + where + ", key \"" + Excerpt(c.ignored->key) +
                  "\"); the relay answers 530 and the mail bounces (set "
                  "smtp_sasl_auth_enable = yes)";
      } else {
        bounce += "its entry (" + where + ", key \"" +
                  Excerpt(c.ignored->key) +
                  "\") is ignored while smtp_sender_dependent_authentication "
                  "= no; the relay answers 530 and the mail bounces (set "
                  "smtp_sender_dependent_authentication = yes)";
      }
      Emit(c, Severity::kError, check, at, std::move(bounce));
      continue;
    }
    message += " (";
    if (c.note == CredentialNote::kAuthDisabled) {
      message += "smtp_sasl_auth_enable = no, and ";
      message.Hint(HintCode::kAuthRequired, kAuthRequiredWords);
    } else if (named) {
      message.Hint(HintCode::kAuthRequired, kAuthRequiredWords);
    } else if (others) {
      message += "other senders sent there authenticate";
    } else {
      message += "if it requires authentication it answers 530 and the mail "
                 "bounces";
    }
    message += ")";
    Emit(c, sev, check, at, std::move(message));
  }
  (void)relayhost;
}

// Check 11: credentials that may travel without TLS, per next hop.

}  // namespace mapctl::check
