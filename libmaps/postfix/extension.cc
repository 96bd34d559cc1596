// postfix/extension.cc - address extensions (recipient_delimiter;
// global/split_addr.c, strip_addr.c).

#include "mapctl/address.h"
#include "util/ascii.h"

namespace mapctl {

bool SplitExtension(std::string_view address, const ExtensionOptions& options,
                    std::string* base, std::string* extension) {
  const std::string& delims = options.recipient_delimiter;
  if (delims.empty() || address.find_first_of(delims) == address.npos) {
    return false;
  }
  std::size_t at = address.rfind('@');
  std::string_view local = address.substr(0, at);
  // split_addr.c: these are never split.
  if (EqualsIgnoreCase(local, "postmaster") ||
      EqualsIgnoreCase(local, "MAILER-DAEMON") ||
      EqualsIgnoreCase(local, options.double_bounce_sender)) {
    return false;
  }
  if (delims.find('-') != std::string::npos && options.owner_request_special) {
    if (StartsWithIgnoreCase(local, "owner-")) return false;
    if (local.size() > 8 &&
        EqualsIgnoreCase(local.substr(local.size() - 8), "-request")) {
      return false;
    }
  }
  std::size_t cut = local.find_first_of(delims);
  if (cut == 0 || cut == local.npos) return false;
  extension->assign(local.substr(cut));
  base->assign(local.substr(0, cut));
  if (at != address.npos) base->append(address.substr(at));
  return true;
}

}  // namespace mapctl
