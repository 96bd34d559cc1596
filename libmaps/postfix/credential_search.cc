// postfix/credential_search.cc - the SASL credentials smtp(8) sends to each
// destination (smtp/smtp_sasl_glue.c): the sender's keys first
// (smtp_sender_dependent_authentication, not for the null sender), then
// per destination the server's host name, then the next hop as written.

#include "mapctl/secrets.h"
#include "postfix/sender_resolver.h"

namespace mapctl {

void SenderResolverImpl::ResolveCredentials(SenderResolution* out) {
  if (!Concluded(out->relay.outcome)) return;
  if (!sasl_enabled_) {
    for (Destination& d : out->destinations) {
      d.outcome = Outcome::kSkipped;
      d.note = CredentialNote::kAuthDisabled;
    }
    return;
  }
  if (password_maps_.empty()) return;  // kNotFound: no AUTH

  const bool to_default = out->relay.source != RelaySource::kSenderDependent;
  // Asks every table for `key` and records the tries. Returns the answer
  // that ended the search (found, error, not evaluated) or a not-found one.
  auto search = [&](std::string_view key, bool partial, KeyStep step,
                    MatchedBy kind, int dest, std::size_t* table) -> Answer {
    for (std::size_t t = 0; t < password_maps_.size(); ++t) {
      Answer a = password_maps_.Find(t, key, partial);
      if (a.outcome == Outcome::kSkipped) continue;
      TriedKey& tk = AddTry(out);
      tk.search = SearchKind::kCredentials;
      tk.destination = dest;
      tk.table.assign(password_maps_.table(t).display());
      tk.table_index = t;
      tk.key.assign(key);
      tk.step = step;
      tk.kind = kind;
      tk.result = a.outcome;
      tk.query.assign(a.detail);
      if (a.outcome != Outcome::kNotFound) {
        *table = t;
        return a;
      }
    }
    return Answer{};
  };
  auto make = [&](std::optional<Credentials>* slot, const Answer& a,
                  std::size_t t, std::string_view key, MatchedBy by) {
    const std::string_view value = a.value;
    Credentials& c = NewCredentials(slot);
    const CredentialValue v = ParseCredentialValue(value);
    c.username.assign(v.username);
    c.password.assign(v.password);
    c.malformed = v.malformed;
    c.table.assign(password_maps_.table(t).display());
    c.table_name.assign(password_maps_.table(t).name());
    c.table_index = t;
    c.key.assign(key);
    c.matched_by = by;
    c.line = a.where ? a.where->line : 0;
    c.to_default_relay = by == MatchedBy::kSender && to_default;
  };
  auto fail = [](Destination& d, const Answer& a) {
    d.outcome = a.outcome;
    d.status = a.error;
  };

  // 1. The sender (SMTP only, smtp_sender_dependent_authentication, not
  // the null sender): once, it is the same for every destination.
  if (sender_auth_ && !out->canonical.null_sender) {
    keys_.Build(out->canonical.internal, key_options_);
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const QueryKey& key = keys_[k];
      std::size_t t = 0;
      Answer a =
          search(key.key, key.partial, key.step, MatchedBy::kSender, -1, &t);
      if (a.outcome == Outcome::kNotFound) continue;
      for (Destination& d : out->destinations) {
        if (a.outcome == Outcome::kFound) {
          d.outcome = Outcome::kFound;
          make(&d.credentials, a, t, key.key, MatchedBy::kSender);
        } else {
          fail(d, a);
        }
      }
      return;
    }
  }

  // 2. The server's host name, 3. the next hop as written; per
  // destination, each a full key.
  for (std::size_t i = 0; i < out->destinations.size(); ++i) {
    Destination& d = out->destinations[i];
    const int di = static_cast<int>(i);
    if (!d.mx_lookup || dns_disabled_) {
      d.host = d.domain;
    } else if (resolve_mx_) {
      Result<std::vector<std::string>> mx = resolve_mx_(d.domain);
      if (mx && !mx->empty()) d.host = mx->front();
    }
    std::size_t t = 0;
    if (d.host) {
      Answer a =
          search(*d.host, false, KeyStep::kFull, MatchedBy::kHost, di, &t);
      if (a.outcome == Outcome::kFound) {
        d.outcome = Outcome::kFound;
        make(&d.credentials, a, t, *d.host, MatchedBy::kHost);
        continue;
      }
      if (a.outcome != Outcome::kNotFound) {
        fail(d, a);
        continue;
      }
    }
    Answer a =
        search(d.nexthop, false, KeyStep::kFull, MatchedBy::kNexthop, di, &t);
    if (a.outcome == Outcome::kFound) {
      make(&d.credentials, a, t, d.nexthop, MatchedBy::kNexthop);
    } else if (a.outcome != Outcome::kNotFound) {
      fail(d, a);
      continue;
    }
    d.outcome = d.credentials ? Outcome::kFound : Outcome::kNotFound;
    if (!d.host) d.note = CredentialNote::kDependsOnMx;
  }
}

}  // namespace mapctl
