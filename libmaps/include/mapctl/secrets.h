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

// "user:password" -> "user:****"; a value without ':' is all username
// (smtp(8): empty password) and prints as "value:****" too, so a masked
// value never shows more than the username.
MAPCTL_EXPORT std::string MaskCredential(std::string_view value);

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
