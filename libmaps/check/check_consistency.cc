// check/check_consistency.cc - gathers the evidence of the relay and
// credential checks: a representative sender per key, each resolved
// (on several threads for large maps) as `query sender` resolves it.

#include <algorithm>
#include <atomic>
#include <thread>

#include "check/consistency.h"
#include "mapctl/pattern_rules.h"
#include "mapctl/relay.h"

namespace mapctl::check {
namespace {

// Settings outside the relay model that change the relay for every sender
// (query sender prints them; here they stop checks 1-3).
bool StopsEvaluation(std::string_view code) {
  static const std::set<std::string_view> kCodes = {
      "transport_maps",
      "sender_dependent_default_transport_maps",
      "default_transport_nexthop",
      "relay_transport_nexthop",
      "default_transport",
      "relay_transport",
      "sender_canonical_maps",
      "canonical_maps",
      "masquerade_domains"};
  return kCodes.count(code) != 0;
}

std::string ParameterOf(std::string_view code) {
  for (std::string_view suffix :
       {"_nexthop", "_unevaluated", "_unknown", "_empty"}) {
    if (code.size() > suffix.size() &&
        code.substr(code.size() - suffix.size()) == suffix) {
      code.remove_suffix(suffix.size());
    }
  }
  return code == "inet_interfaces" ? "inet_interfaces" : std::string(code);
}


// How the resolvers open the tables of the model: the built file as
// Postfix reads it, or (`in_memory`) the copy the model holds, which
// several threads may read at once; a source stands in for a table never
// built. `too_long`: see MemoryReader.
decltype(SenderResolverOptions::open) OpenFromModel(Model* m, bool in_memory,
                                                    bool* too_long) {
  return [m, in_memory, too_long](const TableSpec& spec, const OpenOptions& oo)
             -> Result<std::unique_ptr<TableReader>> {
    auto it = m->files.find(spec.ToString());
    if (it == m->files.end()) {
      return Status::Unsupported("not modelled: " + spec.ToString());
    }
    FileTable& t = *it->second;
    if (!t.readable_type) {
      return Status::Unsupported(spec.ToString() +
                                 ": mapctl cannot read this table type");
    }
    if (t.built) {
      if (in_memory) return MemoryReader(spec, t.built, too_long);
      // The model's own reader when it keeps one: a second one of the
      // same lmdb file would drop the read lock the model holds.
      if (std::unique_ptr<TableReader> r = FileReader(*t.built)) return r;
      return OpenTable(spec, oo);
    }
    if (t.from_source) return MemoryReader(spec, t.from_source, too_long);
    return Status::IoError("open " + (t.file.empty() ? t.source : t.file),
                           ENOENT);
  };
}

// IF and ENDIF lines of a pattern table: structure, never a match.
bool IsIfOrEndif(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && ((text[n] >= 'a' && text[n] <= 'z') ||
                             (text[n] >= 'A' && text[n] <= 'Z'))) {
    ++n;
  }
  const std::string_view word = text.substr(0, n);
  return EqualsIgnoreCase(word, "if") || EqualsIgnoreCase(word, "endif");
}

// The file of "pcre:/path" (a leading proxy: allowed); "" for an inline
// table, whose rules are written in main.cf.
std::string PatternPath(std::string_view name) {
  if (name.substr(0, 6) == "proxy:") name.remove_prefix(6);
  const std::size_t colon = name.find(':');
  if (colon == name.npos) return {};
  name.remove_prefix(colon + 1);
  if (name.empty() || name.front() == '{') return {};
  return std::string(name);
}

}  // namespace

Location Consistency::Where(const TableList& list, const KeyRef& k) const {
  const ListTable& t = list.tables[k.table];
  if (!t.pattern.empty() && k.line != 0) {
    const std::string path = PatternPath(t.pattern);
    if (!path.empty()) return {path, k.line, k.key};
  }
  return Where(list, k.table, k.key);
}

Location Consistency::Where(const TableList& list, std::size_t table,
                            std::string_view key) const {
  const ListTable& t = list.tables[table];
  if (t.file != nullptr) {
    return {t.file->FileFor(), t.file->LineOf(key), std::string(key)};
  }
  return {m_->MainCf(), m_->ParamLine(list.parameter), std::string(key)};
}

bool Consistency::EarlierHas(const TableList& list, std::size_t table,
                             std::string_view key) const {
  for (std::size_t i = 0; i < table && i < list.tables.size(); ++i) {
    const ListTable& t = list.tables[i];
    const MemoryTable* mt = t.entries();
    if (mt != nullptr && mt->Has(key)) return true;
  }
  return false;
}

// Credential keys come in key order per table: a cursor per relay table
// finds shared keys by merging, without an index.
bool Consistency::RelayHas(std::string_view key) {
  bool found = false;
  for (std::size_t i = 0; i < m_->relay.tables.size(); ++i) {
    const ListTable& t = m_->relay.tables[i];
    const MemoryTable* mt = t.entries();
    if (mt == nullptr) continue;
    std::size_t& c = relay_cursor_[i];
    while (c < mt->entries.size() && mt->entries[c].key < key) ++c;
    found = found || (c < mt->entries.size() && mt->entries[c].key == key);
  }
  return found;
}

void Consistency::CollectKeys(const TableList& list, bool credential) {
  constexpr std::string_view kLocal = "nosuchsender";
  for (std::size_t i = 0; i < list.tables.size(); ++i) {
    const ListTable& t = list.tables[i];
    const MemoryTable* mt = t.entries();
    if (mt == nullptr) continue;
    relay_cursor_.assign(m_->relay.tables.size(), 0);
    for (const KeyEntry& e : mt->entries) {
      std::string_view k = e.key;
      if (k == "<>" || k == "\"<>\"") {
        if (!credential) null_keyed_ = true;
        continue;  // the null sender is resolved once, below
      }
      std::size_t at = k.rfind('@');
      if (credential && at == k.npos &&
          (LooksLikeHostKey(k) || host_keys_.count(k) != 0)) {
        continue;  // a host or next-hop key: no sender to represent
      }
      std::string_view local = at == k.npos ? k : k.substr(0, at);
      if (local.size() >= kLocal.size() &&
          EqualsIgnoreCase(local.substr(0, kLocal.size()), kLocal)) {
        taken_.insert(Lower(local));
      }
      if ((credential && RelayHas(k)) || (i > 0 && EarlierHas(list, i, k))) {
        continue;
      }
      Rep r;
      r.kind = at == 0        ? RepKind::kAtDomain
               : at == k.npos ? RepKind::kBare  // cleanup(8) adds @$myorigin
                              : RepKind::kAddress;
      r.credential = credential;
      r.table = static_cast<std::uint32_t>(i);
      r.key = k;
      reps_.push_back(r);
    }
  }
  for (int n = 0; local_.empty(); ++n) {
    std::string l = "nosuchsender" + (n == 0 ? "" : std::to_string(n));
    if (taken_.count(l) == 0) local_ = l;
  }
}

Location Consistency::WhereRep(const Rep& rep) const {
  if (rep.key.empty()) return {};
  if (rep.given) {
    // An address of --senders: its findings point at the setting that
    // routed it.
    return {m_->MainCf(), m_->ParamLine("relayhost"), std::string(rep.key)};
  }
  return Where(rep.credential ? m_->password : m_->relay, rep.table, rep.key);
}

void Consistency::SenderOf(const Rep& rep, std::string* out) const {
  out->clear();
  if (rep.kind == RepKind::kNull) {
    out->assign("<>");
  } else if (rep.kind == RepKind::kAtDomain) {
    out->append(local_).append(rep.key);
  } else {
    out->assign(rep.key);
  }
}


void Consistency::Evaluate(const Rep& rep, SenderResolver& resolver,
                           Scratch& scratch, Evidence* ev) const {
  SenderResolution& res = scratch.res;
  SenderOf(rep, &scratch.sender);
  if (!resolver.Resolve(scratch.sender, "", &res).ok()) return;
  // The pattern rules this sender reaches (not-exercised).
  for (const std::optional<TableMatch>* m : {&res.relay.match, &res.relay.dunno}) {
    if (*m && (*m)->line != 0) {
      ev->rules_hit.emplace(false, (*m)->table_index, (*m)->line);
    }
  }
  for (const Destination& d : res.destinations) {
    if (d.credentials && d.credentials->line != 0) {
      ev->rules_hit.emplace(true, d.credentials->table_index,
                            d.credentials->line);
    }
  }
  const std::size_t config_warnings = resolver.config_warnings().size();
  if (res.warnings.size() > config_warnings) {
    ev->scope.emplace_back(rep, res.warnings[config_warnings].message);
    return;
  }
  // An unusable relay value is a bad-value error; what smtp(8) would make
  // of its pieces is not worth a second finding.
  // Most relay values repeat: the ones found good are remembered.
  if (res.relay.source == RelaySource::kSenderDependent &&
      scratch.valid_relays.count(res.relay.value) == 0) {
    if (!IsValidRelayValue(res.relay.value)) return;
    if (scratch.valid_relays.size() < 4096) {
      scratch.valid_relays.insert(res.relay.value);
    }
  }
  if (!Concluded(res.relay.outcome)) {
    if (res.relay.outcome == Outcome::kNotEvaluated) {
      ++ev->not_evaluated[res.relay.status.message()];
    } else if (res.relay.outcome == Outcome::kError) {
      ev->lookup_errors.emplace(res.relay.status.message(), res.relay.status);
    }
    return;
  }
  auto ref = [](const std::optional<TableMatch>& match) {
    return match ? std::optional<KeyRef>(
                       KeyRef{match->table_index, match->key, match->line})
                 : std::nullopt;
  };
  for (const Destination& d : res.destinations) {
    const bool have =
        d.credentials && d.outcome == Outcome::kFound;
    if (d.outcome == Outcome::kNotEvaluated) {
      ++ev->not_evaluated[d.status.message()];
      continue;
    }
    if (d.outcome == Outcome::kError) {
      ev->lookup_errors.emplace(d.status.message(), d.status);
      continue;
    }
    auto candidate = [&]() {
      Candidate c;
      c.rep = rep;
      c.nexthop = d.nexthop;
      c.outcome = d.outcome;
      c.note = d.note;
      c.source = res.relay.source;
      c.relay_key = ref(res.relay.match);
      c.dunno = res.relay.dunno.has_value();
      c.dunno_key = ref(res.relay.dunno);
      return c;
    };
    if (have) {
      const Credentials& cr = *d.credentials;
      // Sender credentials that only land on the default relay (check 2)
      // say nothing about whether it requires AUTH.
      const bool misrouted =
          cr.matched_by == MatchedBy::kSender && cr.to_default_relay;
      if (!misrouted &&
          ev->needs_auth.find(d.nexthop) == ev->needs_auth.end()) {
        ev->needs_auth.insert(d.nexthop);
      }
      if (ev->sent_credentials.find(d.nexthop) == ev->sent_credentials.end()) {
        ev->sent_credentials.emplace(d.nexthop, Sent{cr.table_index, cr.key});
      }
      if (res.relay.source == RelaySource::kSenderDependent) {
        ev->relay_usernames.push_back(
            std::hash<std::string_view>()(cr.username));
      }
      if (cr.matched_by == MatchedBy::kSender && cr.to_default_relay) {
        Candidate c = candidate();
        c.username = cr.username;
        c.credential_key = KeyRef{cr.table_index, cr.key, cr.line};
        ev->candidates.push_back(std::move(c));
      }
    } else {
      ev->candidates.push_back(candidate());
    }
  }
}

// Adds the evidence of later senders to what is known.
void Consistency::Merge(Evidence& ev) {
  for (const auto& [rep, message] : ev.scope) {
    Location at = WhereRep(rep);
    m_->Add(at.file, at.line, Severity::kWarning, "scope",
            at.key.empty() ? std::nullopt : std::optional<std::string>(at.key),
            (at.key.empty() ? "" : Excerpt(at.key) + ": ") + message +
                "; relay and credential checks skipped for it");
  }
  needs_auth_.insert(ev.needs_auth.begin(), ev.needs_auth.end());
  relay_usernames_.insert(relay_usernames_.end(), ev.relay_usernames.begin(),
                          ev.relay_usernames.end());
  UsernameHashes().swap(ev.relay_usernames);  // merged: not held twice
  for (auto& [nexthop, sent] : ev.sent_credentials) {
    sent_credentials_.emplace(nexthop, std::move(sent));  // earlier senders win
  }
  rules_hit_.merge(ev.rules_hit);
  lookup_errors_.merge(ev.lookup_errors);
  candidates_.insert(candidates_.end(),
                     std::make_move_iterator(ev.candidates.begin()),
                     std::make_move_iterator(ev.candidates.end()));
  for (const auto& [why, count] : ev.not_evaluated)
    not_evaluated_[why] += count;
}

// Resolves reps_ on m_->threads threads, each with its own resolver over
// the in-memory tables (a SenderResolver is not thread-safe, and one LMDB
// file must not be opened twice in a process). False, with nothing
// merged, when some table could not answer from memory as its file would.
bool Consistency::ResolveInParallel(const SenderResolverOptions& base) {
  for (const TableList* list : {&m_->relay, &m_->password}) {
    for (const ListTable& t : list->tables) {
      if (t.file == nullptr) continue;
      if (t.file->built && !t.file->built->same_answers) return false;
    }
  }
  const std::size_t workers = std::min<std::size_t>(
      m_->threads, std::max<std::size_t>(1, reps_.size()));
  // Contiguous slices, a few per thread so that a slow one evens out.
  const std::size_t slices = std::min(reps_.size(), workers * 8);
  std::vector<Evidence> evidence(slices);
  std::vector<std::unique_ptr<SenderResolver>> resolvers(workers);
  std::unique_ptr<bool[]> too_long(new bool[workers]());
  for (std::size_t w = 0; w < workers; ++w) {
    SenderResolverOptions so = base;
    so.open = OpenFromModel(m_, true, &too_long[w]);
    Result<std::unique_ptr<SenderResolver>> r =
        SenderResolver::Create(*m_->config, so);
    if (!r) return false;
    resolvers[w] = std::move(*r);
  }
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t w) {
    SenderResolver& resolver = *resolvers[w];
    Scratch scratch;
    for (std::size_t s = next++; s < slices; s = next++) {
      const std::size_t begin = reps_.size() * s / slices;
      const std::size_t end = reps_.size() * (s + 1) / slices;
      for (std::size_t i = begin; i < end; ++i) {
        Evaluate(reps_[i], resolver, scratch, &evidence[s]);
        if (too_long[w]) {
          evidence[s].too_long = true;
          too_long[w] = false;
        }
        if ((i - begin + 1) % 1000 == 0) resolver.EndBatch();
      }
      resolver.EndBatch();
    }
  };
  std::vector<std::thread> helpers;
  for (std::size_t w = 1; w < workers; ++w) helpers.emplace_back(work, w);
  work(0);
  for (std::thread& t : helpers) t.join();
  for (const Evidence& ev : evidence) {
    if (ev.too_long) return false;
  }
  std::size_t usernames = relay_usernames_.size();
  for (const Evidence& ev : evidence) usernames += ev.relay_usernames.size();
  relay_usernames_.reserve(usernames);
  for (Evidence& ev : evidence) Merge(ev);
  return true;
}


// What the admin wrote but smtp(8) does not send: each destination left
// without credentials is resolved again as if smtp_sasl_auth_enable and
// smtp_sender_dependent_authentication were "yes". Credentials found then
// are the admin's own statement that the relay requires AUTH (the
// founding article's mistake: per-sender credentials with sender-dependent
// authentication off). Mail sent directly to the recipient's MX needs no
// AUTH, so those destinations are left alone.
void Consistency::FindIgnoredCredentials(const SenderResolverOptions& base) {
  if (m_->password.tables.empty()) return;
  if (m_->config->GetBool("smtp_sasl_auth_enable") &&
      m_->config->GetBool("smtp_sender_dependent_authentication")) {
    return;
  }
  for (const TableList* list : {&m_->relay, &m_->password}) {
    for (const ListTable& t : list->tables) {
      if (t.file != nullptr && t.file->built && !t.file->built->same_answers) {
        return;  // the copies in memory could answer otherwise
      }
    }
  }
  MainConfig config = *m_->config;
  config.Set("smtp_sasl_auth_enable", "yes");
  config.Set("smtp_sender_dependent_authentication", "yes");
  SenderResolverOptions so = base;
  bool too_long = false;
  so.open = OpenFromModel(m_, true, &too_long);
  Result<std::unique_ptr<SenderResolver>> r = SenderResolver::Create(config, so);
  if (!r) return;
  SenderResolver& intended = **r;
  SenderResolution res;
  std::string sender, resolved;
  bool have = false;
  std::size_t n = 0;
  for (Candidate& c : candidates_) {
    if (c.credential_key || c.source == RelaySource::kRecipientDomain) {
      continue;
    }
    SenderOf(c.rep, &sender);
    if (sender != resolved) {  // a sender's destinations come together
      resolved = sender;
      too_long = false;
      have = intended.Resolve(sender, "", &res).ok() && !too_long;
      if (++n % 1000 == 0) intended.EndBatch();
    }
    if (!have) continue;
    for (const Destination& d : res.destinations) {
      if (d.outcome != Outcome::kFound || !d.credentials ||
          !EqualsIgnoreCase(d.nexthop, c.nexthop)) {
        continue;
      }
      c.ignored = KeyRef{d.credentials->table_index, d.credentials->key};
      c.ignored_by = d.credentials->matched_by;
      break;
    }
  }
  // With AUTH off, relayhost's own entry is not sent for anyone: every
  // sender without a relay entry bounces there.
  if (!m_->config->GetBool("smtp_sasl_auth_enable") &&
      intended.Resolve(local_ + "@nosuchdomain.invalid", "", &res).ok() &&
      !too_long && res.relay.source == RelaySource::kRelayhost) {
    for (const Destination& d : res.destinations) {
      if (d.outcome != Outcome::kFound || !d.credentials ||
          d.credentials->matched_by == MatchedBy::kSender) {
        continue;
      }
      Candidate c;
      c.nexthop = d.nexthop;
      c.source = RelaySource::kRelayhost;
      c.note = CredentialNote::kAuthDisabled;
      c.ignored = KeyRef{d.credentials->table_index, d.credentials->key};
      c.ignored_by = d.credentials->matched_by;
      candidates_.push_back(std::move(c));
    }
  }
  intended.EndBatch();
}

// The addresses of --senders, each its own representative; the null
// sender is resolved anyway.
void Consistency::AddGivenSenders() {
  for (const std::string& s : m_->options->senders) {
    if (s.empty() || s == "<>") continue;
    Rep r;
    r.given = true;
    r.key = s;
    r.kind = s.rfind('@') == std::string::npos ? RepKind::kBare
             : s.front() == '@'                 ? RepKind::kAtDomain
                                                : RepKind::kAddress;
    reps_.push_back(r);
  }
}

// Pattern tables cannot be listed key by key: a rule is judged only
// through the senders that reach it, and one that none reaches is said so
// rather than silently passed.
void Consistency::ReportUnexercisedRules() {
  if (!m_->Enabled("not-exercised")) return;
  for (const TableList* list : {&m_->relay, &m_->password}) {
    const bool credential = list == &m_->password;
    for (std::size_t i = 0; i < list->tables.size(); ++i) {
      const ListTable& t = list->tables[i];
      if (t.pattern.empty()) continue;
      Result<std::vector<PatternRuleText>> rules = ReadPatternRules(t.pattern);
      if (!rules) continue;  // missing-table or trouble (check_files.cc)
      const std::string path = PatternPath(t.pattern);
      std::set<std::uint32_t> skipped;  // reported as syntax warnings
      for (const TableWarning& w : t.pattern_warnings) {
        skipped.insert(w.diagnostic.line);
      }
      for (const PatternRuleText& r : *rules) {
        if (r.result == std::string_view::npos || IsIfOrEndif(r.text) ||
            skipped.count(r.line) != 0) {
          continue;
        }
        if (rules_hit_.count(RuleHit{credential, i, r.line}) != 0) continue;
        m_->Add(path.empty() ? m_->MainCf() : path,
                path.empty() ? m_->ParamLine(list->parameter) : r.line,
                Severity::kWarning, "not-exercised", std::nullopt,
                (path.empty() ? t.display + ": the rule of line " +
                                    std::to_string(r.line) + " is "
                              : std::string("this rule is ")) +
                    "not exercised: no representative sender reaches it "
                    "(give a sender it should match with --senders)");
      }
    }
  }
}

Status Consistency::Run() {
  if (m_->relay.tables.empty() && m_->password.tables.empty()) {
    return Status::Ok();
  }
  SenderResolverOptions so;
  if (m_->relay.from_options) so.relay_maps = m_->relay.value;
  if (m_->password.from_options) so.password_maps = m_->password.value;
  so.own_address = m_->options->own_address;
  so.resolve_mx = m_->options->resolve_mx;
  so.master_cf = m_->options->master_cf_text;
  so.table_timeout = m_->options->table_timeout;
  // Built tables are read as Postfix reads them; keys are resolved in key
  // order, so the B-tree pages stay in cache.
  so.open = OpenFromModel(m_, false, nullptr);
  Result<std::unique_ptr<SenderResolver>> r =
      SenderResolver::Create(*m_->config, so);
  if (!r) return r.error();
  resolver_ = std::move(*r);

  bool stop = false;
  for (const Warning& w : resolver_->config_warnings()) {
    bool stops = StopsEvaluation(w.code);
    stop = stop || stops;
    std::string param = ParameterOf(w.code);
    m_->Add(m_->MainCf(), m_->ParamLine(param), Severity::kWarning, "scope",
            std::nullopt,
            w.message + (stops ? "; relay and credential checks skipped" : ""));
  }
  if (stop) return Status::Ok();

  // Get() returns a new string: it must outlive the destinations parsed
  // from it (a temporary in a range-for initializer dies before the body).
  const std::string relayhost = m_->config->Get("relayhost");
  for (const Destination& d : ParseDestinations(relayhost)) {
    host_keys_.insert(d.nexthop);
    host_keys_.insert(d.domain);
  }
  std::unordered_set<std::string_view> seen_values;  // most values repeat
  for (const ListTable& t : m_->relay.tables) {
    const MemoryTable* mt = t.entries();
    if (mt == nullptr) continue;
    for (const KeyEntry& e : mt->entries) {
      if (seen_values.count(e.value) != 0) continue;
      if (seen_values.size() < 4096) seen_values.insert(e.value);
      for (std::string_view d : SplitDestinations(e.value)) {
        if (host_keys_.count(d) != 0) continue;  // most values repeat
        for (const Destination& x : ParseDestinations(d)) {
          host_keys_.insert(x.nexthop);
          host_keys_.insert(x.domain);
        }
      }
    }
  }
  // At most one representative per key: reserved, so that a million of
  // them are not copied as the array doubles.
  std::size_t keys = 0;
  for (const TableList* list : {&m_->relay, &m_->password}) {
    for (const ListTable& t : list->tables) {
      const MemoryTable* mt = t.entries();
      if (mt != nullptr) keys += mt->entries.size();
    }
  }
  reps_.reserve(keys + m_->options->senders.size());
  CollectKeys(m_->relay, false);
  CollectKeys(m_->password, true);
  AddGivenSenders();
  // The default relay's own credentials: a sender no key matches.
  if (resolver_->Resolve(local_ + "@nosuchdomain.invalid", "", &res_).ok()) {
    for (const Destination& d : res_.destinations) {
      default_has_own_credentials_ =
          default_has_own_credentials_ ||
          (d.credentials && d.credentials->matched_by != MatchedBy::kSender);
    }
  }

  // Many senders are resolved on several threads (the same findings, in
  // the same order); a few, or with --resolve, on this one.
  const bool parallel = m_->threads > 1 && !so.resolve_mx &&
                        (m_->options->threads > 1 || reps_.size() >= 20000);
  if (!parallel || !ResolveInParallel(so)) {
    Evidence ev;
    Scratch scratch;
    std::size_t n = 0;
    for (const Rep& rep : reps_) {
      Evaluate(rep, *resolver_, scratch, &ev);
      if (++n % 1000 == 0) resolver_->EndBatch();
    }
    Merge(ev);
  }
  Rep null;
  null.kind = RepKind::kNull;
  for (std::size_t i = 0; i < m_->relay.tables.size(); ++i) {
    for (std::string_view k : {"<>", "\"<>\""}) {
      if (null.key.empty() && EarlierHas(m_->relay, i + 1, k) &&
          !EarlierHas(m_->relay, i, k)) {
        null.table = static_cast<std::uint32_t>(i);
        null.key = k;
      }
    }
  }
  Evidence ev;
  Scratch null_scratch;
  Evaluate(null, *resolver_, null_scratch, &ev);
  Merge(ev);
  resolver_->EndBatch();

  // A "<>" credential key is never looked up (smtp(8) skips the sender
  // step for the null sender).
  for (std::size_t i = 0; i < m_->password.tables.size(); ++i) {
    for (std::string_view k : {"<>", "\"<>\""}) {
      const ListTable& t = m_->password.tables[i];
      const MemoryTable* mt = t.entries();
      if (mt == nullptr) continue;
      for (const KeyEntry& e : mt->entries) {
        if (e.key != k) continue;
        if (!null_credential_) null_credential_ = KeyRef{i, std::string(k)};
        Location at = Where(m_->password, i, k);
        m_->Add(at.file, at.line, Severity::kWarning, "null-sender", at.key,
                Excerpt(at.key) +
                    ": a credential entry for the null sender is never used: "
                    "smtp(8) does no sender lookup for <>");
      }
    }
  }

  FindIgnoredCredentials(so);
  Judge();
  JudgeTls();
  ReportUnexercisedRules();
  for (auto& [message, status] : lookup_errors_) {
    // A missing file is missing-table (check_files.cc): an error finding,
    // as for indexed tables, not trouble.
    if (status.sys_errno() == ENOENT) continue;
    m_->report->trouble.push_back(std::move(status));
  }
  for (const auto& [why, count] : not_evaluated_) {
    m_->Add(m_->MainCf(), 0, Severity::kWarning, "not-checked", std::nullopt,
            std::to_string(count) + " sender" + (count == 1 ? "" : "s") +
                " not evaluated: " + why);
  }
  return Status::Ok();
}


Status CheckConsistency(Model* m) {
  // auth-disabled (check 10): credential maps smtp(8) will not use.
  if (!m->password.tables.empty()) {
    if (!m->config->GetBool("smtp_sasl_auth_enable")) {
      m->Add(m->MainCf(), m->ParamLine("smtp_sasl_password_maps"),
             Severity::kWarning, "auth-disabled", std::nullopt,
             "smtp_sasl_password_maps is set but smtp_sasl_auth_enable = no: "
             "smtp(8) sends no credentials at all");
    } else if (!m->config->GetBool("smtp_sender_dependent_authentication")) {
      for (std::size_t i = 0; i < m->password.tables.size(); ++i) {
        const ListTable& t = m->password.tables[i];
        const MemoryTable* mt = t.entries();
        if (mt == nullptr) continue;
        for (const KeyEntry& e : mt->entries) {
          if (e.key.find('@') == std::string_view::npos) continue;
          std::string file = t.file ? t.file->FileFor() : m->MainCf();
          std::uint32_t line = t.file ? t.file->LineOf(e.key)
                                      : m->ParamLine("smtp_sasl_password_maps");
          m->Add(file, line, Severity::kWarning, "auth-disabled",
                 std::string(e.key),
                 Excerpt(e.key) +
                     ": a per-sender credential key is ignored while "
                     "smtp_sender_dependent_authentication = no");
        }
      }
    }
  }
  Consistency c(m);
  return c.Run();
}

}  // namespace mapctl::check
