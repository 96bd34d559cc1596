// postfix/credential_value.cc - the "user:password" values of
// smtp_sasl_password_maps (smtp/smtp_sasl_glue.c) and their masked form.

#include "mapctl/secrets.h"

namespace mapctl {

CredentialValue ParseCredentialValue(std::string_view value) noexcept {
  CredentialValue c;
  const std::size_t colon = value.find(':');
  c.username = value.substr(0, colon);
  if (colon != std::string_view::npos) c.password = value.substr(colon + 1);
  c.malformed = colon == std::string_view::npos;
  return c;
}

std::string MaskCredential(std::string_view value) {
  const CredentialValue c = ParseCredentialValue(value);
  if (c.malformed) return "****";
  std::string out(c.username);
  out += ":****";
  return out;
}

}  // namespace mapctl
