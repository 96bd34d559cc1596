// mapctl/sender.h - which relay and which SASL credentials Postfix uses for
// a sender.
//
// The relay is what trivial-rewrite(8) picks for a recipient in the relay
// or default address class (trivial-rewrite/resolve.c):
// sender_dependent_relayhost_maps, searched with mail_addr_find's default
// strategy (DUNNO ends the search), else relayhost, else the recipient's
// domain. The credentials are what smtp(8) looks up per destination
// (smtp/smtp_sasl_glue.c): the sender (smtp_sender_dependent_
// authentication), then the server's host name, then the next-hop
// destination as written. Every table query is recorded so a caller can
// explain the answer without deriving anything again. Outcomes are the
// Outcome family of lookup_table.h.

#ifndef MAPCTL_SENDER_H_
#define MAPCTL_SENDER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/address.h"
#include "mapctl/export.h"
#include "mapctl/lookup_table.h"
#include "mapctl/map_list.h"
#include "mapctl/span.h"
#include "mapctl/status.h"

namespace mapctl {

class MainConfig;

enum class SearchKind : std::uint8_t { kRelay, kCredentials };
// "relay", "credentials".
MAPCTL_EXPORT std::string_view SearchKindName(SearchKind k) noexcept;

// Where a credential key came from (smtp_sasl_glue.c order).
enum class MatchedBy : std::uint8_t { kSender, kHost, kNexthop };
// "sender", "host", "nexthop".
MAPCTL_EXPORT std::string_view MatchedByName(MatchedBy m) noexcept;

// One table query, in the order Postfix makes them.
struct TriedKey {
  SearchKind search = SearchKind::kRelay;
  int destination = -1;  // index into destinations; -1: not per destination
  std::string table;     // LookupTable::display(): safe to print
  std::size_t table_index = 0;  // into the search's MapList
  std::string key;
  KeyStep step = KeyStep::kFull;        // sender keys only
  MatchedBy kind = MatchedBy::kSender;  // credential keys: which group
  // kFound, kNotFound, kDunno (relay search), kError, kNotEvaluated.
  Outcome result = Outcome::kNotFound;
  // What ran to answer, for tables that run something (an SQL table: its
  // query with the key filled in, as the database saw it); empty else.
  std::string query;
};

// A table and key that matched.
struct TableMatch {
  std::string table;  // display form
  std::size_t table_index = 0;
  std::string key;
  // The rule that matched, for tables with lines (regexp:, pcre:); 0 else.
  std::uint32_t line = 0;
};

enum class RelaySource : std::uint8_t {
  kSenderDependent,  // sender_dependent_relayhost_maps
  kRelayhost,        // relayhost
  kRecipientDomain,  // neither: the recipient's domain (MX routing)
};
// "sender_dependent_relayhost_maps", "relayhost", "recipient_domain".
MAPCTL_EXPORT std::string_view RelaySourceName(RelaySource s) noexcept;

struct RelayDecision {
  // Of the sender_dependent_relayhost_maps search: kFound (the maps gave
  // the relay), kDunno (DUNNO ended it), kNotFound (no entry, or no maps:
  // relayhost or the recipient's domain), kError (a table failed:
  // Postfix would defer the mail), kNotEvaluated (a table mapctl cannot
  // evaluate was reached). Concluded(outcome): value and source are set.
  Outcome outcome = Outcome::kNotFound;
  Status status;      // kError, kNotEvaluated: why
  std::string value;  // the relay value (a list of destinations)
  RelaySource source = RelaySource::kRecipientDomain;
  std::optional<TableMatch> match;  // kSenderDependent: where it was found
  std::optional<TableMatch> dunno;  // a DUNNO that ended the map search
};

// What qualifies a destination's credential outcome.
enum class CredentialNote : std::uint8_t {
  kNone,
  // An MX-routed destination whose MX host name is not known here: the
  // host key was not asked, so the outcome is the next-hop key's alone
  // (used unless the MX host name has its own entry).
  kDependsOnMx,
  // smtp_sasl_auth_enable = no: nothing was asked (outcome kSkipped).
  kAuthDisabled,
};

struct Credentials {
  // ParseCredentialValue() (secrets.h) of the value: split at the first
  // ':'; a value without one is all username (`malformed`).
  std::string username;
  std::string password;    // secret: print only when asked to
  std::string table;       // display form (inline:/static: masked)
  std::string table_name;  // full name: may hold passwords
  std::size_t table_index = 0;
  std::string key;
  MatchedBy matched_by = MatchedBy::kSender;
  // The rule that matched, for tables with lines (regexp:, pcre:); 0 else.
  std::uint32_t line = 0;
  // The sender's credentials go to a relay that did not come from the
  // sender map (relayhost or the recipient's domain).
  bool to_default_relay = false;
  // The value has no ':'. It is most likely "user:password" mistyped, so
  // the username is a secret too: print it only when asked to.
  bool malformed = false;
};

// One element of the relay list: smtp(8) tries them in order.
struct Destination {
  std::string nexthop;     // exactly as written ("[mail.example]:587")
  std::string domain;      // the name or address, no brackets/port/"ipv6:"
  std::string port;        // as written, "" for the default
  bool mx_lookup = false;  // unbracketed name: MX routing
  std::optional<std::string> host;  // the server name the host key uses
  // kFound: `credentials` is what smtp(8) sends (with kDependsOnMx: what
  // it sends unless the MX host name has its own entry). kNotFound: no
  // key matched, smtp(8) sends no AUTH. kSkipped: see note. kError,
  // kNotEvaluated: the search stopped (status).
  Outcome outcome = Outcome::kNotFound;
  CredentialNote note = CredentialNote::kNone;
  std::optional<Credentials> credentials;
  Status status;  // kError, kNotEvaluated: why
};

struct Warning {
  std::string code;  // stable identifier, e.g. "transport_maps"
  std::string message;
};

struct SenderResolution {
  std::string input;
  CanonicalSender canonical;  // parsed and rewritten sender
  std::string sender;         // external form, "<>" for the null sender
  std::string recipient;      // the recipient domain used
  RelayDecision relay;
  std::vector<Destination> destinations;
  std::vector<TriedKey> tried;
  std::vector<Warning> warnings;
};

// Returns the host names an MX-routed destination leads to, best first
// (the host smtp(8) would connect to first). Errors leave the
// destination kDependsOnMx.
using MxResolver =
    std::function<Result<std::vector<std::string>>(std::string_view domain)>;

struct SenderResolverOptions {
  // Replace the parameters' table lists (read as source files:
  // MapListMode::kSources). Unset: the main.cf parameters, in main.cf mode.
  std::optional<std::string> relay_maps;
  std::optional<std::string> password_maps;
  // Reads myorigin = /file; ReadTextFile when empty.
  FileReader read_file;
  // Tells whether an IP literal is this host's ("inet_interfaces = all").
  LocalDomainMatcher::OwnAddressFn own_address;
  // MX host names for unbracketed destinations; unset: kDependsOnMx.
  MxResolver resolve_mx;
  // master.cf's text, when there is one: the services named by
  // default_transport and relay_transport are checked (do they run
  // smtp(8)? do their -o overrides change what this model reads?).
  std::string master_cf;
  // Opens file tables; OpenTable() when empty (tests inject fakes).
  TableOpener open;
  // Bound on connecting to and on each query of the SQL tables
  // (TableContext::timeout).
  std::chrono::milliseconds table_timeout = kDefaultTableTimeout;
  // Open every file table of both lists in Create(), each on its own
  // thread, instead of at its first lookup: for a caller about to resolve
  // many senders over tables that load slowly (a texthash: source of a
  // million lines parses and indexes in about half a second), so that the
  // loads overlap. A table that fails to open still fails at its lookups.
  bool open_file_tables_now = false;
};

// Resolves senders against one configuration. Tables are opened lazily
// and read in units that last until EndBatch(); call it after a batch of
// Resolve() calls and before waiting on the user. Not thread-safe: use
// one resolver per thread.
class MAPCTL_EXPORT SenderResolver {
 public:
  virtual ~SenderResolver();
  SenderResolver(const SenderResolver&) = delete;
  SenderResolver& operator=(const SenderResolver&) = delete;

  // Errors: a bad table list, an unreadable myorigin file.
  static Result<std::unique_ptr<SenderResolver>> Create(
      const MainConfig& config, const SenderResolverOptions& options);

  // Resolves `address` (as `sendmail -f` takes it) for mail to
  // `recipient` (an address or a domain; "" means a remote placeholder).
  // *out is overwritten; reusing one object across calls keeps its
  // buffers. Errors (kInvalidArgument): the address cannot be parsed.
  // Table failures are not errors here: they are recorded in the result.
  virtual Status Resolve(std::string_view address, std::string_view recipient,
                         SenderResolution* out) = 0;

  virtual void EndBatch() = 0;

  // The batch entry point: call it with a batch of addresses, then
  // Resolve() each of them. It hands the tables the keys those Resolve()
  // calls may look up (every sender key of each address for the relay
  // maps, then for the password maps; LookupTable::Prefetch), so that an
  // SQL table asks its server for the batch in one run instead of one
  // wait per key. Resolve() then gives the results it gives without it,
  // except that within one command an SQL answer may be that of the
  // prefetch's moment. The tables are asked keys Postfix would not ask
  // after an earlier hit (read-only); the host and next-hop keys of the
  // password maps, known only from a relay answer, are not prefetched (an
  // SQL table answers repeats of a key from what it kept). Addresses that
  // cannot be parsed are passed over (Resolve() reports them). Views are
  // used during the call only. Default: does nothing.
  virtual void Prefetch(Span<const std::string_view> addresses);

  // Configuration warnings that do not depend on the sender (also copied
  // into every resolution, first).
  virtual const std::vector<Warning>& config_warnings() const noexcept = 0;
  virtual const MapList& relay_maps() const noexcept = 0;
  virtual const MapList& password_maps() const noexcept = 0;

  // The placeholder recipient domain used when none is given.
  static constexpr std::string_view kDefaultRecipientDomain =
      "recipient.invalid";

 protected:
  SenderResolver() = default;
};

// The destinations of a relay value (SplitDestinations and SplitNextHop
// of relay.h), credentials not yet looked up.
MAPCTL_EXPORT std::vector<Destination> ParseDestinations(
    std::string_view value);

}  // namespace mapctl

#endif  // MAPCTL_SENDER_H_
