// postfix/sender_lookup.cc - relay and SASL credential resolution for a sender,
// with a trace (trivial-rewrite/resolve.c, smtp/smtp_sasl_glue.c,
// global/mail_addr_find.c; spec §6-§7).

#include <arpa/inet.h>

#include "mapctl/config.h"
#include "mapctl/sender.h"
#include "postfix/master_cf.h"

namespace mapctl {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

bool IsIpAddress(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "transport" and "nexthop" of a transport:nexthop value.
void SplitTransport(std::string_view value, std::string_view* transport,
                    std::string_view* nexthop) {
  std::size_t colon = value.find(':');
  *transport = value.substr(0, colon);
  *nexthop = colon == value.npos ? std::string_view() : value.substr(colon + 1);
}

TryResult FromProbe(ProbeResult r) {
  switch (r) {
    case ProbeResult::kFound:
      return TryResult::kFound;
    case ProbeResult::kError:
      return TryResult::kError;
    case ProbeResult::kUnsupported:
      return TryResult::kUnsupported;
    default:
      return TryResult::kNotFound;
  }
}

}  // namespace

std::string_view SearchKindName(SearchKind k) noexcept {
  return k == SearchKind::kRelay ? "relay" : "credentials";
}

std::string_view TryResultName(TryResult r) noexcept {
  switch (r) {
    case TryResult::kFound:
      return "found";
    case TryResult::kNotFound:
      return "not found";
    case TryResult::kDunno:
      return "dunno";
    case TryResult::kError:
      return "error";
    case TryResult::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string_view MatchedByName(MatchedBy m) noexcept {
  switch (m) {
    case MatchedBy::kSender:
      return "sender";
    case MatchedBy::kHost:
      return "host";
    case MatchedBy::kNexthop:
      return "nexthop";
  }
  return "unknown";
}

std::string_view RelaySourceName(RelaySource s) noexcept {
  switch (s) {
    case RelaySource::kSenderDependent:
      return "sender_dependent_relayhost_maps";
    case RelaySource::kRelayhost:
      return "relayhost";
    case RelaySource::kRecipientDomain:
      return "recipient_domain";
  }
  return "unknown";
}

std::string_view CredentialStateName(CredentialState s) noexcept {
  switch (s) {
    case CredentialState::kFound:
      return "found";
    case CredentialState::kNone:
      return "none";
    case CredentialState::kDependsOnMx:
      return "depends_on_mx";
    case CredentialState::kAuthDisabled:
      return "auth_disabled";
    case CredentialState::kUnsupported:
      return "unsupported";
    case CredentialState::kError:
      return "error";
  }
  return "unknown";
}

std::vector<Destination> ParseDestinations(std::string_view value) {
  std::vector<Destination> out;
  constexpr std::string_view kSeps = ", \t\r\n";
  std::size_t i = 0;
  while (i < value.size()) {
    if (kSeps.find(value[i]) != kSeps.npos) {
      ++i;
      continue;
    }
    std::size_t end = value.find_first_of(kSeps, i);
    if (end == value.npos) end = value.size();
    std::string_view d = value.substr(i, end - i);
    i = end;
    Destination dest;
    dest.nexthop = std::string(d);
    std::string_view domain;
    std::string_view port;
    if (d.front() == '[') {
      // smtp(8): brackets turn off MX lookups; the port follows them.
      std::size_t close = d.find(']');
      domain = d.substr(1, close == d.npos ? d.npos : close - 1);
      if (close != d.npos && close + 1 < d.size() && d[close + 1] == ':') {
        port = d.substr(close + 2);
      }
      if (domain.size() >= 5 &&
          EqualsIgnoreCase(domain.substr(0, 5), "ipv6:")) {
        domain.remove_prefix(5);
      }
      dest.mx_lookup = false;
    } else {
      std::size_t colon = d.find(':');
      domain = d.substr(0, colon);
      if (colon != d.npos) port = d.substr(colon + 1);
      dest.mx_lookup = !IsIpAddress(domain);
    }
    dest.domain = std::string(domain);
    dest.port = std::string(port);
    out.push_back(std::move(dest));
  }
  return out;
}

SenderResolver::~SenderResolver() = default;

namespace {

// The smtp(8) parameters this model reads: a master.cf -o override of one
// of them means the service behaves differently from main.cf.
bool IsSmtpClientParameter(std::string_view name) {
  for (std::string_view prefix : {"smtp_sasl_", "smtp_sender_dependent_"}) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  for (std::string_view exact :
       {"smtp_fallback_relay", "smtp_dns_support_level", "disable_dns_lookups",
        "smtp_cname_overrides_servername", "smtp_tls_security_level",
        "smtp_tls_policy_maps"}) {
    if (name == exact) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<SenderResolver>> SenderResolver::Create(
    const MainConfig& config, const SenderResolverOptions& options) {
  std::unique_ptr<SenderResolver> r(new SenderResolver());
  FileReader read =
      options.read_file ? options.read_file : FileReader(ReadTextFile);
  Result<AddressRewriteOptions> rw = RewriteOptionsFromConfig(config, read);
  if (!rw) return std::move(rw).error();
  r->rewrite_ = std::move(*rw);
  r->local_ =
      LocalDomainMatcher(r->rewrite_.myorigin, config.Get("mydestination"),
                         config.Get("inet_interfaces"),
                         config.Get("proxy_interfaces"), options.own_address);
  r->key_options_.extension.recipient_delimiter =
      config.Get("recipient_delimiter");
  r->key_options_.extension.owner_request_special =
      config.GetBool("owner_request_special");
  r->key_options_.extension.double_bounce_sender =
      config.Get("double_bounce_sender");
  r->key_options_.local = &r->local_;

  MapListOptions mo;
  mo.default_database_type = config.Get("default_database_type");
  mo.fold = KeyFoldMode(config, false, false);
  mo.check_utf8 = ChecksUtf8(config, false);
  mo.open = options.open;
  auto parse = [&](std::string_view param, const std::optional<std::string>& o,
                   MapList* out) -> Status {
    Result<MapList> l =
        o ? MapList::Parse(param, *o, MapListMode::kSources, mo)
          : MapList::Parse(param, config.Get(param), MapListMode::kMainCf, mo);
    if (!l) return std::move(l).error();
    *out = std::move(*l);
    return Status::Ok();
  };
  MAPCTL_RETURN_IF_ERROR(parse("sender_dependent_relayhost_maps",
                               options.relay_maps, &r->relay_maps_));
  MAPCTL_RETURN_IF_ERROR(parse("smtp_sasl_password_maps", options.password_maps,
                               &r->password_maps_));

  r->relayhost_ = config.Get("relayhost");
  r->empty_relay_key_ = config.Get("empty_address_relayhost_maps_lookup_key");
  r->sasl_enabled_ = config.GetBool("smtp_sasl_auth_enable");
  r->sender_auth_ = config.GetBool("smtp_sender_dependent_authentication");
  r->dns_disabled_ =
      config.GetBool("disable_dns_lookups") ||
      EqualsIgnoreCase(config.Get("smtp_dns_support_level"), "disabled");
  r->resolve_mx_ = options.resolve_mx;

  // Settings that can change the answer but are outside this model.
  auto warn = [&](std::string code, std::string message) {
    r->config_warnings_.push_back({std::move(code), std::move(message)});
  };
  auto set = [&](std::string_view p) { return !config.Get(p).empty(); };
  if (set("transport_maps")) {
    warn("transport_maps",
         "transport_maps is set: an entry for the recipient overrides the "
         "relay shown here");
  }
  if (set("sender_dependent_default_transport_maps")) {
    warn("sender_dependent_default_transport_maps",
         "sender_dependent_default_transport_maps is set: a transport:nexthop "
         "result for the sender overrides the relay shown here");
  }
  for (std::string_view p : {std::string_view("default_transport"),
                             std::string_view("relay_transport")}) {
    std::string v = config.Get(p);
    std::string_view transport, nexthop;
    SplitTransport(v, &transport, &nexthop);
    if (!nexthop.empty()) {
      warn(std::string(p) + "_nexthop",
           std::string(p) + " = " + v +
               " carries a next hop that overrides the relay shown here");
    } else if (transport != "smtp" && transport != "relay") {
      warn(std::string(p),
           std::string(p) + " = " + v +
               " is not the smtp client: this relay model may not apply");
    }
  }
  if (!options.master_cf.empty()) {
    std::vector<MasterService> services = ParseMasterCf(options.master_cf);
    // relay_transport carries mail only to relay_domains (empty by default
    // from compatibility level 2).
    std::vector<std::string_view> transports = {"default_transport"};
    if (set("relay_domains")) transports.push_back("relay_transport");
    for (std::string_view p : transports) {
      std::string v = config.Get(p);
      std::string_view transport, nexthop;
      SplitTransport(v, &transport, &nexthop);
      const MasterService* service = nullptr;
      for (const MasterService& s : services) {
        if (s.name == transport && s.type == "unix") service = &s;
      }
      if (service == nullptr) {
        warn(std::string(p) + "_service",
             std::string(p) + " = " + v + ": master.cf has no unix service " +
                 std::string(transport));
        continue;
      }
      if (service->command != "smtp") {
        warn(std::string(p) + "_service",
             "master.cf service " + service->name + " (" + std::string(p) +
                 ") runs " + service->command + ", not smtp(8)");
      }
      for (const auto& [name, value] : service->overrides) {
        if (IsSmtpClientParameter(name)) {
          warn(std::string(p) + "_override",
               "master.cf service " + service->name + " (" + std::string(p) +
                   ") overrides " + name +
                   " with -o: smtp(8) uses that value, this answer main.cf's");
        }
      }
    }
  }
  for (std::string_view p : {std::string_view("sender_canonical_maps"),
                             std::string_view("canonical_maps")}) {
    if (set(p)) {
      warn(std::string(p), std::string(p) +
                               " is set: cleanup(8) may rewrite the sender "
                               "before these lookups");
    }
  }
  if (set("masquerade_domains")) {
    warn("masquerade_domains",
         "masquerade_domains is set: cleanup(8) may strip the sender's "
         "subdomain before these lookups");
  }
  if (set("smtp_fallback_relay")) {
    warn("smtp_fallback_relay",
         "smtp_fallback_relay is set: when the relay is unreachable, smtp(8) "
         "uses " +
             config.Get("smtp_fallback_relay") +
             " and looks up credentials for it instead");
  }
  for (const std::string& e : r->local_.unevaluated()) {
    warn("mydestination_unevaluated",
         "mydestination entry " + e +
             " is not evaluated: domains it lists are treated as remote");
  }
  if (r->local_.interfaces_unknown()) {
    warn("inet_interfaces_unknown",
         "the host's interface addresses are unknown: address literals "
         "other than loopback are treated as remote");
  }
  if (r->sasl_enabled_ && r->password_maps_.empty()) {
    warn("smtp_sasl_password_maps_empty",
         "smtp_sasl_auth_enable = yes but smtp_sasl_password_maps is empty: "
         "smtp(8) refuses to start");
  }
  return r;
}

std::size_t SenderResolver::AddTry(SenderResolution* out, std::size_t* n) {
  if (*n == out->tried.size()) out->tried.emplace_back();
  return (*n)++;
}

void SenderResolver::Recycle(std::optional<Credentials>* c) {
  if (!c->has_value()) return;
  if (spare_credentials_.size() < 16) {
    spare_credentials_.push_back(std::move(**c));
  }
  c->reset();
}

void SenderResolver::Recycle(std::optional<TableMatch>* m) {
  if (!m->has_value()) return;
  if (spare_matches_.size() < 4) spare_matches_.push_back(std::move(**m));
  m->reset();
}

void SenderResolver::SetDestinations(std::string_view value,
                                     std::vector<Destination>* out) {
  auto it = parsed_.find(value);
  if (it == parsed_.end()) {
    if (parsed_.size() >= 256) parsed_.clear();
    it = parsed_.emplace(std::string(value), ParseDestinations(value)).first;
  }
  const std::vector<Destination>* parsed = &it->second;
  for (Destination& d : *out) Recycle(&d.credentials);
  out->resize(parsed->size());
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    const Destination& p = (*parsed)[i];
    Destination& d = (*out)[i];
    d.nexthop.assign(p.nexthop);
    d.domain.assign(p.domain);
    d.port.assign(p.port);
    d.mx_lookup = p.mx_lookup;
    d.host.reset();
    d.state = CredentialState::kNone;
    d.status = Status::Ok();
  }
}

void SenderResolver::EndBatch() {
  relay_maps_.EndBatch();
  password_maps_.EndBatch();
}

Status SenderResolver::Resolve(std::string_view address,
                               std::string_view recipient,
                               SenderResolution* out) {
  Result<CanonicalSender> c = CanonicalizeSender(address, rewrite_);
  if (!c) return std::move(c).error();
  out->input.assign(address);
  out->canonical = std::move(*c);
  out->sender = out->canonical.external;

  // The recipient decides the address class; only its domain matters.
  std::string_view rcpt = recipient;
  if (rcpt.size() >= 2 && rcpt.front() == '<' && rcpt.back() == '>') {
    rcpt = rcpt.substr(1, rcpt.size() - 2);
  }
  if (std::size_t at = rcpt.rfind('@'); at != rcpt.npos) {
    rcpt = rcpt.substr(at + 1);
  }
  if (rcpt.empty()) rcpt = kDefaultRecipientDomain;
  out->recipient.assign(rcpt);

  out->warnings = config_warnings_;
  if (out->canonical.several_addresses) {
    out->warnings.push_back(
        {"several_addresses",
         "the address text holds several addresses; sendmail uses the first "
         "and warns"});
  }
  if (out->canonical.mailer_daemon) {
    out->warnings.push_back(
        {"mailer_daemon", "MAILER-DAEMON@$myorigin is the null sender"});
  }
  if (local_.IsLocal(out->recipient)) {
    out->warnings.push_back(
        {"recipient_is_local",
         "the recipient domain " + Excerpt(out->recipient) +
             " is local: Postfix delivers locally and consults neither the "
             "sender maps nor relayhost"});
  }

  tried_size_ = 0;
  ResolveRelay(out);
  ResolveCredentials(out);
  out->tried.resize(tried_size_);
  return Status::Ok();
}

void SenderResolver::ResolveRelay(SenderResolution* out) {
  RelayDecision& relay = out->relay;
  relay.outcome = SearchOutcome::kDone;
  relay.status = Status::Ok();
  Recycle(&relay.match);
  Recycle(&relay.dunno);

  bool decided = false;
  if (!relay_maps_.empty()) {
    // resolve.c: the null sender is looked up as
    // empty_address_relayhost_maps_lookup_key.
    keys_.Build(out->canonical.null_sender
                    ? std::string_view(empty_relay_key_)
                    : std::string_view(out->canonical.internal),
                key_options_);
    for (std::size_t k = 0; k < keys_.size() && !decided; ++k) {
      const QueryKey& key = keys_[k];
      for (std::size_t t = 0; t < relay_maps_.size(); ++t) {
        Probe p = relay_maps_.Find(t, key.key, key.partial);
        if (p.result == ProbeResult::kSkipped) continue;
        TriedKey& tk = out->tried[AddTry(out, &tried_size_)];
        tk.search = SearchKind::kRelay;
        tk.destination = -1;
        tk.table.assign(relay_maps_.table(t).display());
        tk.table_index = t;
        tk.key.assign(key.key);
        tk.step = key.step;
        tk.kind = MatchedBy::kSender;
        tk.result = FromProbe(p.result);
        if (p.result == ProbeResult::kNotFound) continue;
        if (p.result == ProbeResult::kError ||
            p.result == ProbeResult::kUnsupported) {
          relay.outcome = p.result == ProbeResult::kError
                              ? SearchOutcome::kError
                              : SearchOutcome::kUnsupported;
          relay.status = std::move(p.error);
          relay.value.clear();
          for (Destination& d : out->destinations) Recycle(&d.credentials);
          out->destinations.clear();
          return;
        }
        // DUNNO, in any case, ends the search without a relay.
        const bool dunno = EqualsIgnoreCase(p.value, "DUNNO");
        std::optional<TableMatch>& m = dunno ? relay.dunno : relay.match;
        if (!spare_matches_.empty()) {
          m.emplace(std::move(spare_matches_.back()));
          spare_matches_.pop_back();
        } else {
          m.emplace();
        }
        m->table.assign(tk.table);
        m->table_index = t;
        m->key.assign(key.key);
        if (dunno) {
          tk.result = TryResult::kDunno;
        } else {
          relay.value.assign(p.value);
          relay.source = RelaySource::kSenderDependent;
        }
        decided = true;
        break;
      }
    }
  }
  if (!relay.match) {
    if (!relayhost_.empty()) {
      relay.value = relayhost_;
      relay.source = RelaySource::kRelayhost;
    } else {
      relay.value = out->recipient;
      relay.source = RelaySource::kRecipientDomain;
    }
  }
  SetDestinations(relay.value, &out->destinations);
}

void SenderResolver::ResolveCredentials(SenderResolution* out) {
  if (out->relay.outcome != SearchOutcome::kDone) return;
  if (!sasl_enabled_) {
    for (Destination& d : out->destinations) {
      d.state = CredentialState::kAuthDisabled;
    }
    return;
  }
  if (password_maps_.empty()) return;  // state kNone

  const bool to_default = out->relay.source != RelaySource::kSenderDependent;
  // Probes `key` in every table; records the tries. Returns the probe that
  // ended the search (found, error, unsupported) or a not-found one.
  auto search = [&](std::string_view key, bool partial, KeyStep step,
                    MatchedBy kind, int dest, std::size_t* table) -> Probe {
    for (std::size_t t = 0; t < password_maps_.size(); ++t) {
      Probe p = password_maps_.Find(t, key, partial);
      if (p.result == ProbeResult::kSkipped) continue;
      TriedKey& tk = out->tried[AddTry(out, &tried_size_)];
      tk.search = SearchKind::kCredentials;
      tk.destination = dest;
      tk.table.assign(password_maps_.table(t).display());
      tk.table_index = t;
      tk.key.assign(key);
      tk.step = step;
      tk.kind = kind;
      tk.result = FromProbe(p.result);
      if (p.result != ProbeResult::kNotFound) {
        *table = t;
        return p;
      }
    }
    return Probe{};
  };
  auto make = [&](std::optional<Credentials>& slot, std::string_view value,
                  std::size_t t, std::string_view key, MatchedBy by) {
    // smtp_sasl_glue.c: user and password split at the first ':'.
    if (!spare_credentials_.empty()) {
      slot.emplace(std::move(spare_credentials_.back()));
      spare_credentials_.pop_back();
    } else {
      slot.emplace();
    }
    Credentials& c = *slot;
    std::size_t colon = value.find(':');
    c.username.assign(value.substr(0, colon));
    c.password.clear();
    if (colon != value.npos) c.password.assign(value.substr(colon + 1));
    c.malformed = colon == value.npos;
    c.table.assign(password_maps_.table(t).display());
    c.table_name.assign(password_maps_.table(t).name());
    c.table_index = t;
    c.key.assign(key);
    c.matched_by = by;
    c.to_default_relay = by == MatchedBy::kSender && to_default;
  };
  auto fail = [](Destination& d, Probe& p) {
    d.state = p.result == ProbeResult::kError ? CredentialState::kError
                                              : CredentialState::kUnsupported;
    d.status = p.error;
  };

  // 1. The sender (SMTP only, smtp_sender_dependent_authentication, not
  // the null sender): once, it is the same for every destination.
  if (sender_auth_ && !out->canonical.null_sender) {
    keys_.Build(out->canonical.internal, key_options_);
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const QueryKey& key = keys_[k];
      std::size_t t = 0;
      Probe p =
          search(key.key, key.partial, key.step, MatchedBy::kSender, -1, &t);
      if (p.result == ProbeResult::kNotFound) continue;
      for (Destination& d : out->destinations) {
        if (p.result == ProbeResult::kFound) {
          d.state = CredentialState::kFound;
          make(d.credentials, p.value, t, key.key, MatchedBy::kSender);
        } else {
          fail(d, p);
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
      Probe p =
          search(*d.host, false, KeyStep::kFull, MatchedBy::kHost, di, &t);
      if (p.result == ProbeResult::kFound) {
        d.state = CredentialState::kFound;
        make(d.credentials, p.value, t, *d.host, MatchedBy::kHost);
        continue;
      }
      if (p.result != ProbeResult::kNotFound) {
        fail(d, p);
        continue;
      }
    }
    Probe p =
        search(d.nexthop, false, KeyStep::kFull, MatchedBy::kNexthop, di, &t);
    if (p.result == ProbeResult::kFound) {
      make(d.credentials, p.value, t, d.nexthop, MatchedBy::kNexthop);
    } else if (p.result != ProbeResult::kNotFound) {
      fail(d, p);
      continue;
    }
    d.state = !d.host         ? CredentialState::kDependsOnMx
              : d.credentials ? CredentialState::kFound
                              : CredentialState::kNone;
  }
}

}  // namespace mapctl
