// mapctl/relay.h - next-hop destinations as smtp(8) reads a relay value.
//
// relayhost and sender_dependent_relayhost_maps values are lists of
// destinations separated by commas or whitespace (Postfix 3.5+), each one
// of [host], [host]:port, host or host:port; brackets turn the MX lookup
// off, the port is a number or a service name (smtp(8) "nexthop").

#ifndef MAPCTL_RELAY_H_
#define MAPCTL_RELAY_H_

#include <optional>
#include <string_view>
#include <vector>

#include "mapctl/export.h"

namespace mapctl {

struct NextHop {
  std::string_view text;  // as written: credentials are looked up by it
  std::string_view host;  // without brackets and port
  std::string_view port;  // empty: the default (25)
  bool bracketed = false;  // [host]: no MX lookup
};

// Parses one destination. Nothing: not a form smtp(8) accepts (empty
// host, unbalanced bracket, a port that is neither 1-65535 nor a known
// service name).
MAPCTL_EXPORT std::optional<NextHop> ParseNextHop(std::string_view text);

// The destinations of a relay value, split at commas and whitespace.
MAPCTL_EXPORT std::vector<std::string_view> SplitDestinations(
    std::string_view value);

// True when `value` reads as a relay value and not as anything else: DUNNO
// (any case) alone, or a list whose every element is [host], [host]:port,
// host (containing a dot) or host:port (bracketed or containing a dot).
// mapctl tells credential tables from relay tables with it (a credential
// "user:password" fails it unless it looks exactly like a host and port).
MAPCTL_EXPORT bool IsRelayValue(std::string_view value);

}  // namespace mapctl

#endif  // MAPCTL_RELAY_H_
