// postfix/sender_resolver.cc - one resolution of a sender: parse and rewrite
// it, find its relay, then the credentials of each destination
// (trivial-rewrite/resolve.c, smtp/smtp_sasl_glue.c; spec §6-§7).

#include "postfix/sender_resolver.h"

#include <arpa/inet.h>

#include <thread>
#include <vector>

#include "mapctl/relay.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

bool IsIpAddress(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

std::string_view SearchKindName(SearchKind k) noexcept {
  return k == SearchKind::kRelay ? "relay" : "credentials";
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

std::vector<Destination> ParseDestinations(std::string_view value) {
  std::vector<Destination> out;
  for (std::string_view d : SplitDestinations(value)) {
    const NextHop hop = SplitNextHop(d);
    Destination dest;
    dest.nexthop = std::string(d);
    dest.domain = std::string(hop.host);
    dest.port = std::string(hop.port);
    // smtp(8): brackets, or an address, turn off MX lookups.
    dest.mx_lookup = !hop.bracketed && !IsIpAddress(hop.host);
    out.push_back(std::move(dest));
  }
  return out;
}

SenderResolver::~SenderResolver() = default;
void SenderResolver::Prefetch(Span<const std::string_view>) {}

Result<std::unique_ptr<SenderResolver>> SenderResolver::Create(
    const MainConfig& config, const SenderResolverOptions& options) {
  auto r = std::make_unique<SenderResolverImpl>();
  MAPCTL_RETURN_IF_ERROR(r->Init(config, options));
  return std::unique_ptr<SenderResolver>(std::move(r));
}

Status SenderResolverImpl::Init(const MainConfig& config,
                                const SenderResolverOptions& options) {
  FileReader read =
      options.read_file ? options.read_file : FileReader(ReadTextFile);
  Result<AddressRewriteOptions> rw = RewriteOptionsFromConfig(config, read);
  if (!rw) return std::move(rw).error();
  rewrite_ = std::move(*rw);
  local_ = LocalDomainMatcher(rewrite_.myorigin, config.Get("mydestination"),
                              config.Get("inet_interfaces"),
                              config.Get("proxy_interfaces"),
                              options.own_address);
  key_options_.extension.recipient_delimiter =
      config.Get("recipient_delimiter");
  key_options_.extension.owner_request_special =
      config.GetBool("owner_request_special");
  key_options_.extension.double_bounce_sender =
      config.Get("double_bounce_sender");
  key_options_.local = &local_;

  TableContext context;
  context.default_database_type = config.Get("default_database_type");
  context.fold = KeyFoldMode(config, false, false);
  context.check_utf8 = ChecksUtf8(config, false);
  context.open = options.open;
  context.timeout = options.table_timeout;
  context.config = &config;  // "mysql:NAME" tables read NAME_* from it
  auto parse = [&](std::string_view param, const std::optional<std::string>& o,
                   MapList* out) -> Status {
    context.mode = o ? MapListMode::kSources : MapListMode::kMainCf;
    Result<MapList> l = MapList::Parse(param, o ? *o : config.Get(param),
                                       context);
    if (!l) return std::move(l).error();
    *out = std::move(*l);
    return Status::Ok();
  };
  MAPCTL_RETURN_IF_ERROR(parse("sender_dependent_relayhost_maps",
                               options.relay_maps, &relay_maps_));
  MAPCTL_RETURN_IF_ERROR(parse("smtp_sasl_password_maps",
                               options.password_maps, &password_maps_));

  relayhost_ = config.Get("relayhost");
  empty_relay_key_ = config.Get("empty_address_relayhost_maps_lookup_key");
  sasl_enabled_ = config.GetBool("smtp_sasl_auth_enable");
  sender_auth_ = config.GetBool("smtp_sender_dependent_authentication");
  dns_disabled_ =
      config.GetBool("disable_dns_lookups") ||
      EqualsIgnoreCase(config.Get("smtp_dns_support_level"), "disabled");
  resolve_mx_ = options.resolve_mx;
  config_warnings_ = ConfigWarnings(config, options.master_cf, local_,
                                    password_maps_.empty());
  if (options.open_file_tables_now) OpenFileTablesNow();
  return Status::Ok();
}

void SenderResolverImpl::OpenFileTablesNow() {
  // Only tables backed by a file (indexed, texthash): a database client's
  // connection is left to the thread that uses it.
  std::vector<LookupTable*> tables;
  for (MapList* list : {&relay_maps_, &password_maps_}) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (list->table(i).spec() != nullptr) tables.push_back(&list->table(i));
    }
  }
  // The outcome is kept by each table (LazyTable) for its first lookup.
  if (tables.size() < 2) {
    for (LookupTable* t : tables) (void)t->Open();
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(tables.size());
  for (LookupTable* t : tables) {
    threads.emplace_back([t] { (void)t->Open(); });
  }
  for (std::thread& t : threads) t.join();
}

TriedKey& SenderResolverImpl::AddTry(SenderResolution* out) {
  if (tried_size_ == out->tried.size()) out->tried.emplace_back();
  return out->tried[tried_size_++];
}

void SenderResolverImpl::Recycle(std::optional<Credentials>* c) {
  if (!c->has_value()) return;
  if (spare_credentials_.size() < 16) {
    spare_credentials_.push_back(std::move(**c));
  }
  c->reset();
}

void SenderResolverImpl::Recycle(std::optional<TableMatch>* m) {
  if (!m->has_value()) return;
  if (spare_matches_.size() < 4) spare_matches_.push_back(std::move(**m));
  m->reset();
}

Credentials& SenderResolverImpl::NewCredentials(
    std::optional<Credentials>* slot) {
  if (!spare_credentials_.empty()) {
    slot->emplace(std::move(spare_credentials_.back()));
    spare_credentials_.pop_back();
  } else {
    slot->emplace();
  }
  return **slot;
}

TableMatch& SenderResolverImpl::NewMatch(std::optional<TableMatch>* slot) {
  if (!spare_matches_.empty()) {
    slot->emplace(std::move(spare_matches_.back()));
    spare_matches_.pop_back();
  } else {
    slot->emplace();
  }
  return **slot;
}

void SenderResolverImpl::SetDestinations(std::string_view value,
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
    d.outcome = Outcome::kNotFound;
    d.note = CredentialNote::kNone;
    d.status = Status::Ok();
  }
}

void SenderResolverImpl::EndBatch() {
  relay_maps_.EndBatch();
  password_maps_.EndBatch();
}

void SenderResolverImpl::Prefetch(Span<const std::string_view> addresses) {
  // The keys ResolveRelay() and ResolveCredentials() build, from the same
  // SenderKeys and the same conditions; one list per search, so that each
  // table's connection gets one run.
  const bool sender_keys = sasl_enabled_ && sender_auth_;
  for (int search = 0; search < 2; ++search) {
    MapList& maps = search == 0 ? relay_maps_ : password_maps_;
    if (maps.empty() || (search == 1 && !sender_keys)) continue;
    std::size_t n = 0;
    for (std::string_view address : addresses) {
      Result<CanonicalSender> c = CanonicalizeSender(address, rewrite_);
      if (!c) continue;
      if (search == 0) {
        keys_.Build(c->null_sender ? std::string_view(empty_relay_key_)
                                   : std::string_view(c->internal),
                    key_options_);
      } else if (!c->null_sender) {
        keys_.Build(c->internal, key_options_);
      } else {
        continue;
      }
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (n == prefetch_keys_.size()) prefetch_keys_.emplace_back();
        QueryKey& q = prefetch_keys_[n++];
        q.key.assign(keys_[k].key);
        q.partial = keys_[k].partial;
      }
    }
    maps.Prefetch(Span<const QueryKey>(prefetch_keys_.data(), n));
  }
}

Status SenderResolverImpl::Resolve(std::string_view address,
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

}  // namespace mapctl
