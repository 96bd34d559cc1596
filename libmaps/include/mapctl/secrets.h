// mapctl/secrets.h - recognising credential tables and masking passwords.
//
// smtp_sasl_password_maps values are "username:password" (smtp(8) splits
// at the first ':'). mapctl prints them masked unless asked, and decides
// whether a table is a credential table the way an admin would: main.cf
// or a master.cf -o override names it as smtp_sasl_password_maps or
// lmtp_sasl_password_maps.

#ifndef MAPCTL_SECRETS_H_
#define MAPCTL_SECRETS_H_

#include <string>
#include <string_view>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/export.h"

namespace mapctl {

// "user:password" -> "user:****". A value without ':' is malformed:
// smtp(8) sends all of it as the username with an empty password
// (smtp_sasl_glue.c splits at the first ':'), and it is most likely a
// password whose ':' was mistyped, so it masks as "****" whole.
MAPCTL_EXPORT std::string MaskCredential(std::string_view value);

// Whether `value` has no ':' (MaskCredential() shows none of it).
inline bool IsMalformedCredential(std::string_view value) {
  return value.find(':') == std::string_view::npos;
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
// smtp_sasl_password_maps and lmtp_sasl_password_maps name. Pattern and
// inline tables name no file and are left out.
MAPCTL_EXPORT std::vector<std::string> CredentialTablePaths(
    const MainConfig& config, std::string_view master_cf_text);

}  // namespace mapctl

#endif  // MAPCTL_SECRETS_H_
