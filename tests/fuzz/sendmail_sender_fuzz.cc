// sendmail_sender_fuzz.cc - libFuzzer target: a sender as `sendmail -f`
// takes it, through parsing (tok822), cleanup(8)'s local rewriting, the
// MAILER-DAEMON rule, the extension split and the query keys.
//
// Input: an optional first line of option letters, then the address text
// (everything after the first newline; no newline: all of it is the
// address). Letters: b no swap_bangpath, p no allow_percent_hack, o no
// append_at_myorigin, d append_dot_mydomain, r no owner_request_special;
// '+', '-' and '=' go into recipient_delimiter. Other bytes are ignored.
//
// Invariants besides "no crash, no sanitizer report":
// - CanonicalizeSender() agrees with its own steps done one by one
//   (ParseSendmailSender, RewriteLocalAddress, the MAILER-DAEMON rule):
//   its fast path for plain addresses must not change any answer;
// - the null sender is exactly the empty internal form, shown as "<>";
// - the external form reads back (InternalForm) as the internal form;
// - an extension split only removes the extension;
// - every query key but a localpart is non-empty.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "mapctl/address.h"

namespace {

using mapctl::fuzz::Check;

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view flags;
  std::string_view text = input;
  if (std::size_t nl = input.find('\n'); nl != std::string_view::npos) {
    flags = input.substr(0, nl);
    text = input.substr(nl + 1);
  }
  mapctl::AddressRewriteOptions rewrite;
  rewrite.myorigin = "local.test";
  rewrite.mydomain = "test";
  mapctl::ExtensionOptions ext;
  for (char c : flags) {
    switch (c) {
      case 'b': rewrite.swap_bangpath = false; break;
      case 'p': rewrite.allow_percent_hack = false; break;
      case 'o': rewrite.append_at_myorigin = false; break;
      case 'd': rewrite.append_dot_mydomain = true; break;
      case 'r': ext.owner_request_special = false; break;
      case '+': case '-': case '=':
        if (ext.recipient_delimiter.find(c) == std::string::npos) {
          ext.recipient_delimiter += c;
        }
        break;
      default: break;
    }
  }

  mapctl::Result<mapctl::CanonicalSender> sender =
      mapctl::CanonicalizeSender(text, rewrite);
  bool several = false;
  mapctl::Result<std::string> parsed =
      mapctl::ParseSendmailSender(text, &several);
  if (!sender) {
    Check(!parsed, "CanonicalizeSender refuses what ParseSendmailSender takes");
    return 0;
  }
  const mapctl::CanonicalSender& s = *sender;
  Check(parsed.has_value(),
        "CanonicalizeSender takes what ParseSendmailSender refuses");
  // The same steps one by one (cleanup/cleanup_addr.c for MAILER-DAEMON).
  std::string internal = mapctl::RewriteLocalAddress(*parsed, rewrite);
  if (internal.size() >= 14 &&
      EqualsIgnoreAsciiCase(internal.substr(0, 14), "MAILER-DAEMON@") &&
      EqualsIgnoreAsciiCase(
          internal, mapctl::RewriteLocalAddress("MAILER-DAEMON", rewrite))) {
    internal.clear();
  }
  Check(s.internal == internal,
        "CanonicalizeSender's internal form differs from its steps");
  Check(s.several_addresses == several, "several_addresses differs");
  Check(s.null_sender == s.internal.empty(), "null_sender is not empty()");
  Check(s.null_sender == (s.external == "<>"), "null sender is not \"<>\"");
  if (!s.null_sender) {
    Check(mapctl::InternalForm(s.external) == s.internal,
          "the external form does not read back as the internal form");
  }

  std::string base, extension;
  if (mapctl::SplitExtension(s.internal, ext, &base, &extension)) {
    Check(!extension.empty() && !base.empty(), "an empty split part");
    Check(base.size() + extension.size() == s.internal.size(),
          "an extension split changes more than the extension");
    Check(ext.recipient_delimiter.find(extension.front()) != std::string::npos,
          "an extension that does not start with a delimiter");
  }

  mapctl::LocalDomainMatcher local(rewrite.myorigin,
                                   "local.test, localhost.test, localhost",
                                   "127.0.0.1", "192.0.2.1");
  mapctl::SenderKeyOptions key_options;
  key_options.extension = ext;
  key_options.local = &local;
  mapctl::SenderKeys keys;
  keys.Build(s.internal, key_options);
  Check(s.internal.empty() == (keys.size() == 0),
        "the null sender has keys, or a sender has none");
  // A localpart key may be empty ("@local.test"): maps.c never looks an
  // empty key up, and neither does MapList::Find().
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Check(!keys[i].key.empty() || keys[i].step == mapctl::KeyStep::kLocalpart ||
              keys[i].step == mapctl::KeyStep::kLocalpartNoExt,
          "an empty query key");
  }
  return 0;
}
