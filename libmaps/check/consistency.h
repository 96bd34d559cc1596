// check/consistency.h - the types of the relay and credential checks
// (spec §7, §8.1), shared by the files that gather evidence
// (check_consistency.cc), judge it (check_judge.cc) and look at TLS
// (check_tls.cc). Every key of the relay and credential maps gets a
// representative sender, resolved with SenderResolver exactly as `query
// sender` resolves it; findings come from those resolutions, never from
// the shape of the keys.

#ifndef MAPCTL_LIBMAPS_CHECK_CONSISTENCY_H_
#define MAPCTL_LIBMAPS_CHECK_CONSISTENCY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "check/check_internal.h"
#include "mapctl/page_allocator.h"
#include "mapctl/sender.h"
#include "util/string_hash.h"

namespace mapctl::check {

enum class RepKind { kAddress, kAtDomain, kBare, kNull };

// Where a key is written: a source line, or main.cf for inline tables.
struct Location {
  std::string file;
  std::uint32_t line = 0;
  std::string key;
};

// A representative sender: a key of one of the lists (a view into the
// model), or the null sender.
struct Rep {
  RepKind kind = RepKind::kAddress;
  bool credential = false;  // a key of the credential list
  bool given = false;       // from CheckOptions::senders, no table's key
  std::uint32_t table = 0;
  std::string_view key;  // empty for a null sender no key names
  std::string_view domain() const { return key.substr(1); }  // kAtDomain
};

// Next hops compare without regard to ASCII case (tables fold keys).
using NoCaseLess = LessIgnoreCase;

// A key of table `table` of a list; located (source line) only when a
// finding names it.
struct KeyRef {
  std::size_t table = 0;
  std::string key;
  std::uint32_t line = 0;  // the rule of a pattern table; 0 else
};

// A rule of a pattern table that a resolution matched: (credential list?,
// table, line).
using RuleHit = std::tuple<bool, std::size_t, std::uint32_t>;

// A destination that got no credentials, or the sender's credentials on
// the default relay: judged once all evidence is in.
struct Candidate {
  Rep rep;
  std::string nexthop;
  Outcome outcome = Outcome::kNotFound;  // of the credential search
  CredentialNote note = CredentialNote::kNone;
  RelaySource source = RelaySource::kRecipientDomain;
  std::optional<KeyRef> relay_key;  // the relay-map entry that routed it
  bool dunno = false;
  std::optional<KeyRef> dunno_key;
  std::string username;                  // sender credentials
  std::optional<KeyRef> credential_key;  // in the credential list
  // The credentials the admin wrote for this sender and destination,
  // which smtp(8) does not send because smtp_sasl_auth_enable or
  // smtp_sender_dependent_authentication is "no": the evidence that the
  // relay requires AUTH.
  std::optional<KeyRef> ignored;
  MatchedBy ignored_by = MatchedBy::kSender;
};

struct Sent {
  std::size_t table = 0;
  std::string key;
};

// What one thread reuses from sender to sender.
struct Scratch {
  SenderResolution res;
  std::string sender;
  std::unordered_set<std::string> valid_relays;  // values that parsed
};

// A million keys give a million representatives and username hashes:
// large arrays (mapctl/page_allocator.h).
using Reps = std::vector<Rep, PageAllocator<Rep>>;
using UsernameHashes = std::vector<std::size_t, PageAllocator<std::size_t>>;

// The evidence a run of resolutions gathers; runs on different threads
// each fill their own, merged in sender order.
struct Evidence {
  // Probed for every sender: hashed. Merged into the ordered sets below.
  std::unordered_set<std::string, HashIgnoreCase, EqualToIgnoreCase>
      needs_auth;  // next hops with AUTH
  UsernameHashes relay_usernames;
  std::unordered_map<std::string, Sent, StringHash, std::equal_to<>>
      sent_credentials;  // first wins
  std::vector<Candidate> candidates;
  std::map<std::string, std::size_t> not_evaluated;
  // Sender-specific resolver warnings: the rep and the message.
  std::vector<std::pair<Rep, std::string>> scope;
  bool too_long = false;  // a query the memory reader cannot answer
  std::set<RuleHit> rules_hit;
  // Lookups that failed (a database that cannot be reached): the run is
  // incomplete, never a pass. By message, the first status kept.
  std::map<std::string, Status> lookup_errors;
};

class Consistency {
 public:
  explicit Consistency(Model* m) : m_(m) {}
  Status Run();

 private:
  void CollectKeys(const TableList& list, bool credential);
  bool EarlierHas(const TableList& list, std::size_t table,
                  std::string_view key) const;
  bool RelayHas(std::string_view key);
  Location Where(const TableList& list, std::size_t table,
                 std::string_view key) const;
  Location WhereRep(const Rep& rep) const;
  void SenderOf(const Rep& rep, std::string* out) const;
  void Evaluate(const Rep& rep, SenderResolver& resolver, Scratch& scratch,
                Evidence* ev) const;
  void Merge(Evidence& ev);
  bool ResolveInParallel(const SenderResolverOptions& so);
  void FindIgnoredCredentials(const SenderResolverOptions& so);
  void AddGivenSenders();
  void ReportUnexercisedRules();
  // A key, or the rule of a pattern table that matched.
  Location Where(const TableList& list, const KeyRef& k) const;
  Location Where(const TableList& list, const std::optional<KeyRef>& k) const {
    return Where(list, *k);
  }
  void Judge();
  void JudgeTls();
  std::string FallThroughNames(std::string_view domain) const;
  void Emit(const Candidate& c, Severity severity, std::string_view check,
            const Location& at, HintedText message);

  Model* m_;
  std::unique_ptr<SenderResolver> resolver_;
  SenderResolution res_;
  Reps reps_;
  std::vector<std::size_t> relay_cursor_;
  std::string local_;  // the local part no key uses, for @domain keys
  std::set<std::string, std::less<>> taken_;     // keys' "nosuchsender*" parts
  std::set<std::string, NoCaseLess> host_keys_;  // relay hosts, next hops
  bool null_keyed_ = false;
  // The first "<>" key of the credential list: never used, and evidence
  // that the null sender's relay requires AUTH.
  std::optional<KeyRef> null_credential_;
  // Evidence gathered from every resolution.
  std::set<std::string, NoCaseLess> needs_auth_;  // next hops with AUTH
  UsernameHashes relay_usernames_;  // sorted after
  std::map<std::string, Sent, std::less<>> sent_credentials_;
  bool default_has_own_credentials_ = false;
  std::vector<Candidate> candidates_;
  std::map<std::string, std::size_t> not_evaluated_;
  std::set<RuleHit> rules_hit_;
  std::map<std::string, Status> lookup_errors_;
  std::set<std::tuple<std::string, std::uint32_t, std::string, std::string>>
      emitted_;
};

}  // namespace mapctl::check

#endif  // MAPCTL_LIBMAPS_CHECK_CONSISTENCY_H_
