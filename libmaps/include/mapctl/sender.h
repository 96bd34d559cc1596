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
// explain the answer without deriving anything again.

#ifndef MAPCTL_SENDER_H_
#define MAPCTL_SENDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapctl/address.h"
#include "mapctl/export.h"
#include "mapctl/map_list.h"
#include "mapctl/status.h"

namespace mapctl {

class MainConfig;

enum class SearchKind : std::uint8_t { kRelay, kCredentials };
// "relay", "credentials".
MAPCTL_EXPORT std::string_view SearchKindName(SearchKind k) noexcept;

enum class TryResult : std::uint8_t {
  kFound,
  kNotFound,
  kDunno,        // relay search: the value was DUNNO
  kError,        // the table failed or held an empty value
  kUnsupported,  // the table cannot be evaluated; the search stopped
};
// "found", "not found", "dunno", "error", "unsupported".
MAPCTL_EXPORT std::string_view TryResultName(TryResult r) noexcept;

// Where a credential key came from (smtp_sasl_glue.c order).
enum class MatchedBy : std::uint8_t { kSender, kHost, kNexthop };
// "sender", "host", "nexthop".
MAPCTL_EXPORT std::string_view MatchedByName(MatchedBy m) noexcept;

// One table query, in the order Postfix makes them.
struct TriedKey {
  SearchKind search = SearchKind::kRelay;
  int destination = -1;  // index into destinations; -1: not per destination
  std::string table;     // MapTable::display(): safe to print
  std::size_t table_index = 0;  // into the search's MapList
  std::string key;
  KeyStep step = KeyStep::kFull;        // sender keys only
  MatchedBy kind = MatchedBy::kSender;  // credential keys: which group
  TryResult result = TryResult::kNotFound;
};

// A table and key that matched.
struct TableMatch {
  std::string table;  // display form
  std::size_t table_index = 0;
  std::string key;
};

enum class RelaySource : std::uint8_t {
  kSenderDependent,  // sender_dependent_relayhost_maps
  kRelayhost,        // relayhost
  kRecipientDomain,  // neither: the recipient's domain (MX routing)
};
// "sender_dependent_relayhost_maps", "relayhost", "recipient_domain".
MAPCTL_EXPORT std::string_view RelaySourceName(RelaySource s) noexcept;

// How far a search got.
enum class SearchOutcome : std::uint8_t {
  kDone,         // the answer is known
  kUnsupported,  // a table that cannot be evaluated was reached
  kError,        // a table failed: Postfix would defer the mail
};

struct RelayDecision {
  SearchOutcome outcome = SearchOutcome::kDone;
  Status status;      // kUnsupported / kError: why
  std::string value;  // the relay value (a list of destinations)
  RelaySource source = RelaySource::kRecipientDomain;
  std::optional<TableMatch> match;  // kSenderDependent: where it was found
  std::optional<TableMatch> dunno;  // a DUNNO that ended the map search
};

enum class CredentialState : std::uint8_t {
  kFound,
  kNone,          // no key matched: smtp(8) sends no AUTH
  kDependsOnMx,   // the MX host name decides and is not known here
  kAuthDisabled,  // smtp_sasl_auth_enable = no
  kUnsupported,   // a table that cannot be evaluated was reached
  kError,         // a table failed: Postfix would defer the mail
};
// "found", "none", "depends_on_mx", "auth_disabled", "unsupported",
// "error".
MAPCTL_EXPORT std::string_view CredentialStateName(CredentialState s) noexcept;

struct Credentials {
  // smtp_sasl_glue.c splits the value at the first ':'; a value without
  // one is all username, with an empty password (`malformed`).
  std::string username;
  std::string password;    // secret: print only when asked to
  std::string table;       // display form (inline:/static: masked)
  std::string table_name;  // full name: may hold passwords
  std::size_t table_index = 0;
  std::string key;
  MatchedBy matched_by = MatchedBy::kSender;
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
  CredentialState state = CredentialState::kNone;
  // kFound: what smtp(8) sends. kDependsOnMx: the next-hop key's match, if
  // any (used unless the MX host name has its own entry).
  std::optional<Credentials> credentials;
  Status status;  // kUnsupported / kError: why
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
// (the host smtp(8) would connect to first). Errors become state
// kDependsOnMx.
using MxResolver =
    std::function<Result<std::vector<std::string>>(std::string_view domain)>;

struct SenderResolverOptions {
  // Replace the parameters' table lists (mapctl's --relay-maps and
  // --sasl-maps, read as source files: MapListMode::kSources). Unset:
  // the main.cf parameters, in main.cf mode.
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
  std::function<Result<std::unique_ptr<TableReader>>(const TableSpec&,
                                                     const OpenOptions&)>
      open;
};

// Resolves senders against one configuration. Tables are opened lazily
// and read in units that last until EndBatch(); call it after a batch of
// Resolve() calls and before waiting on the user. Not thread-safe.
class MAPCTL_EXPORT SenderResolver {
 public:
  ~SenderResolver();

  // Errors: a bad table list, an unreadable myorigin file.
  static Result<std::unique_ptr<SenderResolver>> Create(
      const MainConfig& config, const SenderResolverOptions& options);

  // Resolves `address` (as `sendmail -f` takes it) for mail to
  // `recipient` (an address or a domain; "" means a remote placeholder).
  // *out is overwritten; reusing one object across calls keeps its
  // buffers. Errors (kInvalidArgument): the address cannot be parsed.
  // Table failures are not errors here: they are recorded in the result.
  Status Resolve(std::string_view address, std::string_view recipient,
                 SenderResolution* out);

  void EndBatch();

  // Configuration warnings that do not depend on the sender (also copied
  // into every resolution).
  const std::vector<Warning>& config_warnings() const noexcept {
    return config_warnings_;
  }
  const MapList& relay_maps() const noexcept { return relay_maps_; }
  const MapList& password_maps() const noexcept { return password_maps_; }

  // The placeholder recipient domain used when none is given.
  static constexpr std::string_view kDefaultRecipientDomain =
      "recipient.invalid";

 private:
  SenderResolver() = default;

  void ResolveRelay(SenderResolution* out);
  void ResolveCredentials(SenderResolution* out);
  std::size_t AddTry(SenderResolution* out, std::size_t* n);
  // out->destinations = ParseDestinations(value), reusing its elements'
  // buffers and the parses of recent values (a check resolves a million
  // senders whose relay values mostly repeat).
  void SetDestinations(std::string_view value, std::vector<Destination>* out);
  void Recycle(std::optional<Credentials>* c);
  void Recycle(std::optional<TableMatch>* m);

  AddressRewriteOptions rewrite_;
  LocalDomainMatcher local_;
  SenderKeyOptions key_options_;
  MapList relay_maps_;
  MapList password_maps_;
  std::string relayhost_;
  std::string empty_relay_key_;
  bool sasl_enabled_ = false;
  bool sender_auth_ = false;
  bool dns_disabled_ = false;
  MxResolver resolve_mx_;
  std::vector<Warning> config_warnings_;
  SenderKeys keys_;
  std::size_t tried_size_ = 0;
  // Buffers of earlier results, reused (see SetDestinations).
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>()(s);
    }
  };
  std::unordered_map<std::string, std::vector<Destination>, StringHash,
                     std::equal_to<>>
      parsed_;
  std::vector<Credentials> spare_credentials_;
  std::vector<TableMatch> spare_matches_;
};

// Splits a relay value into destinations (commas and whitespace; smtp(8)
// since 3.5) and parses each: "[host]:port", "host:port", "[host]",
// "host", "[ipv6:addr]:port".
MAPCTL_EXPORT std::vector<Destination> ParseDestinations(
    std::string_view value);

}  // namespace mapctl

#endif  // MAPCTL_SENDER_H_
