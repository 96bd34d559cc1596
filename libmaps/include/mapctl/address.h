// mapctl/address.h - mail addresses the way Postfix reads, rewrites and
// searches them.
//
// Postfix keeps addresses in "internal" form (localpart unquoted: a b@x)
// and shows them in "external" form (RFC 5322 quoting: "a b"@x); see
// Postfix global/quote_822_local.c. A sender given to `sendmail -f` is
// parsed as an RFC 822 header (global/tok822_parse.c), then cleanup(8)
// rewrites it in the "local" context (trivial-rewrite/rewrite.c:
// swap_bangpath, allow_percent_hack, append_at_myorigin,
// append_dot_mydomain, one trailing dot) and turns MAILER-DAEMON@$myorigin
// into the null sender (cleanup/cleanup_addr.c). Table searches then try
// the derived query keys of global/mail_addr_find.c.

#ifndef MAPCTL_ADDRESS_H_
#define MAPCTL_ADDRESS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/status.h"

namespace mapctl {

class MainConfig;

// Longest sender address accepted (bytes). SMTP allows 256 for a path;
// Postfix's own limits are larger, this keeps error messages sane.
inline constexpr std::size_t kMaxAddressLength = 2048;

// ---------------------------------------------------------------- quoting

// Appends the external form of the internal address `address` to *out
// (quote_822_local, 8-bit clean): the localpart (before the last '@', or
// everything with `bare_localpart`) is quoted unless it is a dot-atom; a
// leading "@route:" prefix is kept as is. The empty address becomes "".
MAPCTL_EXPORT void AppendExternalForm(std::string_view address,
                                      bool bare_localpart, std::string* out);
MAPCTL_EXPORT std::string ExternalForm(std::string_view address,
                                       bool bare_localpart = false);

// The internal form of an external address (unquote_822_local): quotes
// and backslashes are removed up to the last unquoted '@'.
MAPCTL_EXPORT std::string InternalForm(std::string_view address);

// ------------------------------------------------------ sender canonicalizing

// The settings of cleanup(8)'s "local" address rewriting context.
struct MAPCTL_EXPORT AddressRewriteOptions {
  bool swap_bangpath = true;         // swap_bangpath: site!user -> user@site
  bool allow_percent_hack = true;    // allow_percent_hack: user%site
  bool append_at_myorigin = true;    // append_at_myorigin
  bool append_dot_mydomain = false;  // append_dot_mydomain (3.7 level >= 1)
  std::string myorigin;  // the value, a file already read (ResolveMyorigin)
  std::string mydomain;
};

// Returns a file's contents; used for myorigin = /file (Debian's
// /etc/mailname). Injected so that tests and other hosts can fake it.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// A FileReader over the real file system (the first 64 KiB of the file).
// Errors: kIoError naming the file.
MAPCTL_EXPORT Result<std::string> ReadTextFile(const std::string& path);

// The domain myorigin stands for: the value itself, or, when it is an
// absolute path (Debian's "myorigin = /etc/mailname"), the first line of
// that file, trimmed. Errors: the file cannot be read or its first line is
// empty.
MAPCTL_EXPORT Result<std::string> ResolveMyorigin(std::string_view value,
                                                  const FileReader& read);

// Rewrite options from main.cf (Postfix 3.7 defaults for unset values).
// `read` resolves a myorigin that names a file (ReadTextFile, or a fake).
MAPCTL_EXPORT Result<AddressRewriteOptions> RewriteOptionsFromConfig(
    const MainConfig& config, const FileReader& read);

// A sender as Postfix would record it.
struct MAPCTL_EXPORT CanonicalSender {
  std::string input;     // as given
  std::string parsed;    // internal form after sendmail -f parsing
  std::string internal;  // after cleanup(8) rewriting; "" = null sender
  std::string external;  // quoted form; "<>" for the null sender
  bool null_sender = false;
  bool several_addresses = false;  // input held more than one address: the
                                   // first was used (sendmail warns)
  bool mailer_daemon = false;      // MAILER-DAEMON@$myorigin became "<>"
};

// Parses `text` as `sendmail -f` does: an RFC 5322 address list (comments,
// "Name <addr>", a bare addr-spec), first address taken, in internal form;
// "<>" and "" give the null sender. Stricter than Postfix: text longer than
// kMaxAddressLength, invalid UTF-8, control characters, or unbalanced
// quotes, brackets, parentheses or angle brackets are kInvalidArgument.
MAPCTL_EXPORT Result<std::string> ParseSendmailSender(std::string_view text,
                                                      bool* several);

// cleanup(8)'s rewriting of an envelope address in the local context
// (trivial-rewrite/rewrite.c), internal form in and out.
MAPCTL_EXPORT std::string RewriteLocalAddress(
    std::string_view internal, const AddressRewriteOptions& options);

// ParseSendmailSender, RewriteLocalAddress, then MAILER-DAEMON@$myorigin
// (any case) becomes the null sender (cleanup/cleanup_addr.c).
MAPCTL_EXPORT Result<CanonicalSender> CanonicalizeSender(
    std::string_view text, const AddressRewriteOptions& options);

// ---------------------------------------------------------------- extensions

struct MAPCTL_EXPORT ExtensionOptions {
  std::string recipient_delimiter;  // a set of bytes; empty: never split
  bool owner_request_special = true;
  std::string double_bounce_sender = "double-bounce";
};

// Splits the localpart of the internal address at the first delimiter byte
// (global/split_addr.c, strip_addr.c). Returns false, leaving the outputs
// alone, when Postfix would not split: no delimiter set or present,
// postmaster / MAILER-DAEMON / double_bounce_sender, owner-x or x-request
// when '-' is a delimiter and owner_request_special, or an empty base.
// Otherwise *base is the address without the extension and *extension
// the extension with its delimiter ("+foo").
MAPCTL_EXPORT bool SplitExtension(std::string_view address,
                                  const ExtensionOptions& options,
                                  std::string* base, std::string* extension);

// ------------------------------------------------------------- local domains

// Postfix's "is this domain mine" test for address lookups
// (global/resolve_local.c plus mail_addr_find's $myorigin check): the
// domain equals $myorigin, or matches $mydestination, or is an IP literal
// of inet_interfaces / proxy_interfaces. One trailing dot is ignored.
// mydestination entries that are type:table lookups or /file/names cannot
// be evaluated here: they never match, and has_unevaluated() says so.
class MAPCTL_EXPORT LocalDomainMatcher {
 public:
  // Tells whether an IP address (text, no brackets) is one of this host's
  // interface addresses ("inet_interfaces = all" needs the machine).
  using OwnAddressFn = std::function<bool(std::string_view ip)>;

  // Nothing is local.
  LocalDomainMatcher();
  // myorigin: resolved value; mydestination, inet_interfaces,
  // proxy_interfaces: expanded parameter values.
  LocalDomainMatcher(std::string myorigin, std::string_view mydestination,
                     std::string_view inet_interfaces,
                     std::string_view proxy_interfaces,
                     OwnAddressFn own_address = nullptr);
  ~LocalDomainMatcher();
  // Copies share the (immutable) settings.
  LocalDomainMatcher(const LocalDomainMatcher&);
  LocalDomainMatcher& operator=(const LocalDomainMatcher&);

  // Thread-safe when own_address is.
  bool IsLocal(std::string_view domain) const;

  // mydestination entries that were not evaluated (type:table, /file).
  const std::vector<std::string>& unevaluated() const noexcept;
  bool has_unevaluated() const noexcept;
  // Whether an IP literal's locality depends on own_address and none was
  // given ("all" interfaces): such literals count as remote.
  bool interfaces_unknown() const noexcept;

 private:
  struct Rep;
  std::shared_ptr<const Rep> rep_;
};

// ------------------------------------------------------------- query keys

// Which derivation step of mail_addr_find produced a query key.
enum class KeyStep : std::uint8_t {
  kFull,            // user+ext@domain
  kNoExt,           // user@domain
  kLocalpart,       // user+ext (local domains only)
  kLocalpartNoExt,  // user (local domains only)
  kAtDomain,        // @domain
};

// "full", "noext", "localpart", "localpart_noext", "at_domain".
MAPCTL_EXPORT std::string_view KeyStepName(KeyStep step) noexcept;

struct QueryKey {
  std::string key;
  KeyStep step = KeyStep::kFull;
  bool partial = false;   // only fixed-key tables are asked (maps.c)
  bool external = false;  // the quoted form of a key that has both forms
};

struct MAPCTL_EXPORT SenderKeyOptions {
  ExtensionOptions extension;
  const LocalDomainMatcher* local = nullptr;  // null: no domain is local
};

// A reusable list of query keys: Build() overwrites the previous keys but
// keeps their buffers, so a batch of senders allocates little.
class MAPCTL_EXPORT SenderKeys {
 public:
  SenderKeys();
  ~SenderKeys();
  SenderKeys(SenderKeys&&) noexcept;
  SenderKeys& operator=(SenderKeys&&) noexcept;

  // The keys Postfix's default strategy (FULL, NOEXT, LOCALPART_IF_LOCAL,
  // AT_DOMAIN; external form first, then the internal form when it
  // differs) tries for the internal address `address`, in order. The empty
  // address gives no keys (maps_find never looks one up).
  void Build(std::string_view address, const SenderKeyOptions& options);

  std::size_t size() const noexcept;
  // REQUIRES: i < size(). Valid until the next Build().
  const QueryKey& operator[](std::size_t i) const;
  // Set by Build: the extension that NOEXT keys drop ("" when none).
  const std::string& extension() const noexcept;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace mapctl

#endif  // MAPCTL_ADDRESS_H_
