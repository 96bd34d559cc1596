// mapctl/relay.h - next-hop destinations as smtp(8) reads a relay value.
//
// relayhost and sender_dependent_relayhost_maps values are lists of
// destinations separated by commas or whitespace (Postfix 3.5+), each one
// of [host], [host]:port, [ipv6:address]:port, host or host:port. Brackets
// turn the MX lookup off; the port is a number or a service name. The
// split follows util/host_port.c: inside brackets the first ']' ends the
// host and an "ipv6:" prefix (any case) is dropped; without brackets the
// LAST ':' starts the port, so "[ipv6:2001:db8::1]:587" is host
// 2001:db8::1 port 587 and "a:b:25" is host "a:b" port 25. This is the one
// relay-value parser of the library: the sender search, check and diff
// all use it.

#ifndef MAPCTL_RELAY_H_
#define MAPCTL_RELAY_H_

#include <optional>
#include <string_view>
#include <vector>

#include "mapctl/export.h"

namespace mapctl {

// One destination. The views point into the parsed text.
struct NextHop {
  std::string_view text;  // as written: credentials are looked up by it
  std::string_view host;  // without brackets, port and "ipv6:"
  std::string_view port;  // empty: the default (25)
  bool bracketed = false;  // [host]: no MX lookup
  // Whether smtp(8) accepts the form: a closed bracket followed by
  // nothing or ":port"; a non-empty host without '[', ']' or '@' when
  // unbracketed; a port (when there is a ':') of 1-65535 or a services(5)
  // name. Unlike host_port(3), mapctl refuses an empty port after ':'.
  bool valid = false;
};

// Splits one destination by the rules above, whatever it holds: an
// invalid form still gives the pieces smtp(8) would look up (an unclosed
// "[host" is all host).
MAPCTL_EXPORT NextHop SplitNextHop(std::string_view text);

// SplitNextHop() when the form is valid; nothing otherwise.
MAPCTL_EXPORT std::optional<NextHop> ParseNextHop(std::string_view text);

// The destinations of a relay value, split at commas and whitespace.
MAPCTL_EXPORT std::vector<std::string_view> SplitDestinations(
    std::string_view value);

// Whether smtp(8) accepts `value` as a relay value: DUNNO (any case)
// alone, or a list of valid next hops whose hosts are host names
// (letters, digits, '-', '_', '.') or, in brackets, addresses.
MAPCTL_EXPORT bool IsValidRelayValue(std::string_view value);

// Whether `value` reads as a relay value and not as anything else:
// IsValidRelayValue(), and every unbracketed host has a dot. A credential
// "user:password" fails it unless it looks exactly like host:port; tables
// are told apart with it (see HoldsCredentialValues in secrets.h).
MAPCTL_EXPORT bool LooksLikeRelayValue(std::string_view value);

// Whether a credential-map key names a host or next hop rather than a
// sender: no '@', and bracketed, with a ':' or with a dot.
MAPCTL_EXPORT bool LooksLikeHostKey(std::string_view key);

}  // namespace mapctl

#endif  // MAPCTL_RELAY_H_
