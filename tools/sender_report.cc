// sender_report.cc - the human and JSON forms of a sender resolution.
// Passwords are masked unless asked for; table names come from
// LookupTable::display(), which never shows an inline: table's text.

#include "sender_report.h"

#include "mapctl/secrets.h"
#include "output.h"

namespace mapctl::cli {
namespace {

// ", rule at line N" for a match in a table with lines (a pattern table).
std::string RuleLine(std::uint32_t line) {
  return line == 0 ? std::string() : ", rule at line " + std::to_string(line);
}

// Whether the credentials are printed masked: the library's decision for
// values of smtp_sasl_password_maps, a credential table by its role.
bool Masked(const SenderReportOptions& o) {
  return MaskCredentialTable(o.show_secrets ? SecretsRequest::kShow
                                            : SecretsRequest::kAuto);
}

// The value as the table holds it, whole or masked (MaskCredential: a
// value without ':' is most likely a password whose ':' was mistyped, so
// none of it shows).
std::string Shown(const Credentials& c, bool masked) {
  std::string value =
      c.malformed ? c.username : c.username + ":" + c.password;
  return masked ? MaskCredential(value) : value;
}

// The report's words for a destination's credentials: the "state" of the
// JSON form and the cases of the human one.
enum class State { kFound, kNone, kDependsOnMx, kAuthDisabled, kUnsupported,
                   kError };

State StateOf(const Destination& d) {
  if (d.outcome == Outcome::kError) return State::kError;
  if (d.outcome == Outcome::kNotEvaluated) return State::kUnsupported;
  if (d.note == CredentialNote::kAuthDisabled) return State::kAuthDisabled;
  if (d.note == CredentialNote::kDependsOnMx) return State::kDependsOnMx;
  return d.outcome == Outcome::kFound ? State::kFound : State::kNone;
}

std::string_view StateName(State s) {
  switch (s) {
    case State::kFound: return "found";
    case State::kNone: return "none";
    case State::kDependsOnMx: return "depends_on_mx";
    case State::kAuthDisabled: return "auth_disabled";
    case State::kUnsupported: return "unsupported";
    case State::kError: return "error";
  }
  return "error";
}

void Line(std::string* out, std::string_view label, std::string_view text) {
  out->append(label);
  out->append(label.size() < 12 ? 12 - label.size() : 1, ' ');
  out->append(text);
  out->push_back('\n');
}

void JsonField(std::string* out, std::string_view name, std::string_view value,
               bool first = false) {
  if (!first) out->append(", ");
  AppendJsonString(out, name);
  out->append(": ");
  AppendJsonString(out, value);
}

void JsonNullable(std::string* out, std::string_view name, bool present,
                  std::string_view value) {
  out->append(", ");
  AppendJsonString(out, name);
  out->append(present ? ": " : ": null");
  if (present) AppendJsonString(out, value);
}

// "line": the rule that matched in a table with lines (regexp:, pcre:),
// null for the others (an indexed table) and without a match.
void JsonLine(std::string* out, std::uint32_t line) {
  out->append(", \"line\": ");
  out->append(line == 0 ? "null" : std::to_string(line));
}

void JsonCredentials(std::string* out, const std::optional<Credentials>& c,
                     bool masked) {
  if (!c) {
    out->append("null");
    return;
  }
  out->push_back('{');
  if (c->malformed && masked) {
    out->append("\"username\": null");
  } else {
    JsonField(out, "username", c->username, true);
  }
  if (!masked) JsonField(out, "password", c->password);
  out->append(", \"malformed\": ");
  out->append(c->malformed ? "true" : "false");
  JsonField(out, "table", c->table);
  JsonLine(out, c->line);
  JsonField(out, "key", c->key);
  JsonField(out, "matched_by", MatchedByName(c->matched_by));
  out->append(", \"to_default_relay\": ");
  out->append(c->to_default_relay ? "true" : "false");
  out->push_back('}');
}

void JsonNotes(std::string* out, std::string_view name,
               const std::vector<Warning>* notes) {
  out->append(", ");
  AppendJsonString(out, name);
  out->append(": [");
  if (notes != nullptr) {
    for (std::size_t i = 0; i < notes->size(); ++i) {
      if (i > 0) out->append(", ");
      out->push_back('{');
      JsonField(out, "code", (*notes)[i].code, true);
      JsonField(out, "message", (*notes)[i].message);
      out->push_back('}');
    }
  }
  out->push_back(']');
}

// "done" when the relay search reached an answer, else why not.
std::string_view SearchName(Outcome o) {
  return Concluded(o) ? "done" : OutcomeName(o);
}

void AppendJson(const SenderResolution& r, const SenderReportOptions& o,
                std::string* out) {
  out->push_back('{');
  JsonField(out, "input", r.input, true);
  JsonField(out, "sender", r.sender);
  out->append(", \"relay\": {");
  bool known = Concluded(r.relay.outcome);
  out->append("\"value\": ");
  if (known) {
    AppendJsonString(out, r.relay.value);
  } else {
    out->append("null");
  }
  JsonField(out, "source", RelaySourceName(r.relay.source));
  JsonNullable(out, "table", r.relay.match.has_value(),
               r.relay.match ? r.relay.match->table : "");
  JsonLine(out, r.relay.match ? r.relay.match->line : 0);
  JsonNullable(out, "key", r.relay.match.has_value(),
               r.relay.match ? r.relay.match->key : "");
  out->append(", \"dunno\": ");
  if (r.relay.dunno) {
    out->push_back('{');
    JsonField(out, "table", r.relay.dunno->table, true);
    JsonLine(out, r.relay.dunno->line);
    JsonField(out, "key", r.relay.dunno->key);
    out->push_back('}');
  } else {
    out->append("null");
  }
  JsonField(out, "outcome", SearchName(r.relay.outcome));
  if (!r.relay.status.ok()) JsonField(out, "error", r.relay.status.message());
  out->append("}, \"destinations\": [");
  for (std::size_t i = 0; i < r.destinations.size(); ++i) {
    const Destination& d = r.destinations[i];
    if (i > 0) out->append(", ");
    out->push_back('{');
    JsonField(out, "nexthop", d.nexthop, true);
    JsonNullable(out, "host", d.host.has_value(), d.host.value_or(""));
    JsonField(out, "state", StateName(StateOf(d)));
    out->append(", \"credentials\": ");
    JsonCredentials(out, d.credentials, Masked(o));
    if (!d.status.ok()) JsonField(out, "error", d.status.message());
    out->push_back('}');
  }
  out->append("], \"credentials\": ");
  JsonCredentials(out, r.destinations.empty()
                           ? std::nullopt
                           : r.destinations[0].credentials,
                  Masked(o));
  out->append(", \"tried\": [");
  for (std::size_t i = 0; i < r.tried.size(); ++i) {
    const TriedKey& t = r.tried[i];
    if (i > 0) out->append(", ");
    out->push_back('{');
    JsonField(out, "search", SearchKindName(t.search), true);
    bool per_destination = t.destination >= 0 &&
                           static_cast<std::size_t>(t.destination) <
                               r.destinations.size();
    JsonNullable(out, "destination", per_destination,
                 per_destination ? r.destinations[t.destination].nexthop : "");
    JsonField(out, "table", t.table);
    JsonField(out, "key", t.key);
    JsonField(out, "result", OutcomeName(t.result));
    JsonNullable(out, "query", !t.query.empty(), t.query);
    out->push_back('}');
  }
  out->push_back(']');
  JsonNotes(out, "warnings", &r.warnings);
  JsonNotes(out, "assumptions", o.assumptions);
  out->append("}\n");
}

void AppendCredentialLines(const Destination& d, const SenderResolution& r,
                           const SenderReportOptions& o, std::string_view label,
                           std::string* out) {
  switch (StateOf(d)) {
    case State::kFound: {
      const Credentials& c = *d.credentials;
      Line(out, label, Shown(c, Masked(o)));
      if (c.malformed) Line(out, "", std::string(kMalformedCredentialNote));
      std::string from = "from smtp_sasl_password_maps " + c.table + ", key \"" +
                         c.key + "\" (" + std::string(MatchedByName(c.matched_by)) +
                         " key)" + RuleLine(c.line);
      Line(out, "", from);
      if (c.to_default_relay) {
        Line(out, "", "note: the sender's credentials go to the default relay (" +
                          std::string(RelaySourceName(r.relay.source)) + ")");
      }
      break;
    }
    case State::kNone:
      Line(out, label, "none: no key matched; Postfix sends no AUTH");
      break;
    case State::kAuthDisabled:
      Line(out, label, "none: smtp_sasl_auth_enable = no");
      break;
    case State::kDependsOnMx:
      Line(out, label, "depends on the MX host of " + d.domain +
                           " (the host name key); use --resolve");
      if (d.credentials) {
        Line(out, "", "otherwise " + Shown(*d.credentials, Masked(o)) +
                          " from " + d.credentials->table + ", key \"" +
                          d.credentials->key + "\"");
        if (d.credentials->malformed) {
          Line(out, "", std::string(kMalformedCredentialNote));
        }
      }
      break;
    case State::kUnsupported:
    case State::kError:
      Line(out, label, std::string(StateName(StateOf(d))) + ": " +
                           d.status.message());
      break;
  }
}

}  // namespace

bool SenderResolved(const SenderResolution& r) {
  if (!Concluded(r.relay.outcome)) return false;
  for (const Destination& d : r.destinations) {
    if (!Concluded(d.outcome)) return false;
  }
  return true;
}

void AppendSenderReport(const SenderResolution& r,
                        const SenderReportOptions& o, std::string* out) {
  if (o.json) {
    AppendJson(r, o, out);
    return;
  }
  Line(out, "sender", r.sender);
  if (!Concluded(r.relay.outcome)) {
    Line(out, "relay", std::string(SearchName(r.relay.outcome)) + ": " +
                           r.relay.status.message());
  } else {
    Line(out, "relay", r.relay.value);
    switch (r.relay.source) {
      case RelaySource::kSenderDependent:
        Line(out, "", "from sender_dependent_relayhost_maps " +
                          r.relay.match->table + ", key \"" +
                          r.relay.match->key + "\"" +
                          RuleLine(r.relay.match->line));
        break;
      case RelaySource::kRelayhost:
        Line(out, "", "from relayhost");
        break;
      case RelaySource::kRecipientDomain:
        Line(out, "", "the recipient's domain (no sender relay, no relayhost)");
        break;
    }
    if (r.relay.dunno) {
      Line(out, "", "sender_dependent_relayhost_maps " + r.relay.dunno->table +
                        ", key \"" + r.relay.dunno->key + "\" said DUNNO");
    }
  }
  for (std::size_t i = 0; i < r.destinations.size(); ++i) {
    std::string label = "credentials";
    if (r.destinations.size() > 1) {
      Line(out, "nexthop", r.destinations[i].nexthop);
    }
    AppendCredentialLines(r.destinations[i], r, o, label, out);
  }
  if (o.explain) {
    for (const TriedKey& t : r.tried) {
      std::string where(SearchKindName(t.search));
      if (t.destination >= 0 &&
          static_cast<std::size_t>(t.destination) < r.destinations.size()) {
        where += " " + r.destinations[t.destination].nexthop;
      }
      Line(out, "tried", where + "  " + t.table + "  \"" + t.key + "\"  " +
                             std::string(OutcomeName(t.result)));
      if (!t.query.empty()) Line(out, "", "  query: " + t.query);
    }
  }
  for (const Warning& w : r.warnings) Line(out, "warning", w.message);
  if (o.assumptions != nullptr) {
    for (const Warning& a : *o.assumptions) Line(out, "assumed", a.message);
  }
}

void AppendSenderError(std::string_view input, std::string_view code,
                       std::string_view message, bool json, std::string* out) {
  if (!json) return;  // the human form goes to stderr through report.h
  out->push_back('{');
  JsonField(out, "input", input, true);
  out->append(", \"error\": {");
  JsonField(out, "code", code, true);
  JsonField(out, "message", message);
  out->append("}}\n");
}

}  // namespace mapctl::cli
