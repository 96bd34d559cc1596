// mapctl/secrets.h - SASL credential values, and which tables hold them.
//
// smtp_sasl_password_maps values are "username:password": smtp(8) splits
// them at the first ':' (smtp/smtp_sasl_glue.c). mapctl prints them
// masked unless asked. Whether a table is a credential table is decided
// the way an admin would: main.cf or a master.cf -o override names it as
// smtp_sasl_password_maps or lmtp_sasl_password_maps; a table nothing
// names is treated as one unless every value reads as a relay value
// (fail closed). diff, query sender and check take the decision from
// MaskValues() and MaskCredentialTable(), and no other rule.

#ifndef MAPCTL_SECRETS_H_
#define MAPCTL_SECRETS_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/diff.h"
#include "mapctl/export.h"
#include "mapctl/status.h"

namespace mapctl {

// A credential value split as smtp(8) splits it. The views point into the
// parsed value.
struct CredentialValue {
  std::string_view username;
  std::string_view password;
  // No ':' at all: smtp(8) sends everything as the username with an empty
  // password. Most likely "user:password" with the ':' mistyped, so the
  // username is a secret too.
  bool malformed = false;
};

// The one "user:password" parser: split at the first ':'.
MAPCTL_EXPORT CredentialValue ParseCredentialValue(
    std::string_view value) noexcept;

// "user:password" -> "user:****"; a malformed value (no ':') -> "****",
// none of it shown.
MAPCTL_EXPORT std::string MaskCredential(std::string_view value);

// Whether `value` has no ':' (MaskCredential() shows none of it).
inline bool IsMalformedCredential(std::string_view value) {
  return ParseCredentialValue(value).malformed;
}

// What a masked malformed value is printed with.
inline constexpr std::string_view kMalformedCredentialNote =
    "malformed: no ':' in the value; Postfix sends all of it as the "
    "username, with an empty password";

// The path a table name refers to, as mapctl compares tables: "proxy:"
// and "type:" removed, a .lmdb/.cdb/.db suffix removed, made absolute, and
// resolved with realpath(3) where the file (or its directory) exists.
MAPCTL_EXPORT std::string CanonicalTablePath(std::string_view table_name);

// CanonicalTablePath() of every table that main.cf's or master.cf's (-o)
// smtp_sasl_password_maps and lmtp_sasl_password_maps name. Tables that
// name no file (inline:, static:, pattern types) are left out, and so are
// commented-out master.cf lines.
MAPCTL_EXPORT std::vector<std::string> CredentialTablePaths(
    const MainConfig& config, std::string_view master_cf_text);

// The credential tables a configuration names (CredentialTablePaths()).
class MAPCTL_EXPORT CredentialTables {
 public:
  CredentialTables(const MainConfig& config, std::string_view master_cf_text);

  // Whether `table` ("type:path", or a bare path: a source) is one of
  // them, compared by CanonicalTablePath().
  bool Names(std::string_view table) const;
  const std::vector<std::string>& paths() const noexcept { return paths_; }

 private:
  std::vector<std::string> paths_;
};

// For a table nothing names: whether its values must be masked anyway,
// because one of them does not read as a relay value (LooksLikeRelayValue
// in relay.h). Reads the stream to its end or to the first such value.
// Errors come from the stream.
MAPCTL_EXPORT Result<bool> HoldsCredentialValues(EntryStream& entries);

// How a command was asked to print credential values (its options).
enum class SecretsRequest : std::uint8_t {
  kAuto,  // masked where a table is, or may be, a credential table
  kMask,  // always masked (diff --secrets)
  kShow,  // never masked (--show-secrets)
};

// Reads one table ("type:path", or a bare path: a source) for
// MaskValues(): HoldsCredentialValues() of its entries. The caller opens
// the table, as it does to print it.
using CredentialProbe = std::function<Result<bool>(const std::string& table)>;

// The one masking decision, the same for diff, query sender and check:
// whether the values read from `tables` are printed masked
// (MaskCredential()). kShow: no. kMask: yes. kAuto: yes when `named`
// names one of them, else when `probe` finds credential-like values in
// one of them (asked in order, until one does). One answer for all of
// them: a credential table compared with any other masks both (fail
// closed). Errors come from `probe`.
MAPCTL_EXPORT Result<bool> MaskValues(SecretsRequest request,
                                      const CredentialTables& named,
                                      std::span<const std::string> tables,
                                      const CredentialProbe& probe);

// The same decision for values read from a table that holds credentials
// by its role (smtp_sasl_password_maps in the sender search): masked
// unless kShow.
MAPCTL_EXPORT bool MaskCredentialTable(SecretsRequest request) noexcept;

}  // namespace mapctl

#endif  // MAPCTL_SECRETS_H_
