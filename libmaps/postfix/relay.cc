// postfix/relay.cc - the one parser of next-hop destinations (smtp(8)
// "nexthop", util/host_port.c) and the rules built on it.

#include "mapctl/relay.h"

#include <netdb.h>

#include <string>

#include "util/ascii.h"

namespace mapctl {
namespace {

bool IsSpaceOrComma(char c) { return c == ',' || IsAsciiSpace(c); }

bool ValidPort(std::string_view port) {
  if (port.empty()) return false;
  bool digits = true;
  for (char c : port) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (port.size() > 5) return false;
    int n = std::stoi(std::string(port));
    return n >= 1 && n <= 65535;
  }
  // A service name, as smtp(8) resolves it through services(5).
  std::string name(port);
  return getservbyname(name.c_str(), "tcp") != nullptr;
}

bool IsHostNameChar(char c, bool bracketed) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         (bracketed && c == ':');
}

}  // namespace

NextHop SplitNextHop(std::string_view text) {
  NextHop hop;
  hop.text = text;
  if (!text.empty() && text.front() == '[') {
    // host_port.c: "[host]", "[host]:port"; the first ']' closes.
    hop.bracketed = true;
    const std::size_t close = text.find(']');
    std::string_view inside = text.substr(1, close == text.npos ? text.npos
                                                                : close - 1);
    hop.valid = close != text.npos && close > 1;
    if (StartsWithIgnoreCase(inside, "ipv6:")) inside.remove_prefix(5);
    // "[ipv6:]" names no address: smtp(8) would look up a host "ipv6:".
    hop.valid = hop.valid && !inside.empty();
    hop.host = inside;
    if (close != text.npos) {
      std::string_view rest = text.substr(close + 1);
      if (!rest.empty()) {
        hop.valid = hop.valid && rest.front() == ':';
        if (rest.front() == ':') hop.port = rest.substr(1);
        hop.valid = hop.valid && ValidPort(hop.port);
      }
    }
    return hop;
  }
  // "host", "host:port": the port follows the last ':'.
  const std::size_t colon = text.rfind(':');
  hop.host = text.substr(0, colon);
  hop.valid = !hop.host.empty() &&
              hop.host.find_first_of("[]@") == std::string_view::npos;
  if (colon != text.npos) {
    hop.port = text.substr(colon + 1);
    hop.valid = hop.valid && ValidPort(hop.port);
  }
  return hop;
}

std::optional<NextHop> ParseNextHop(std::string_view text) {
  NextHop hop = SplitNextHop(text);
  if (!hop.valid) return std::nullopt;
  return hop;
}

std::vector<std::string_view> SplitDestinations(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && IsSpaceOrComma(value[i])) ++i;
    const std::size_t start = i;
    while (i < value.size() && !IsSpaceOrComma(value[i])) ++i;
    if (i > start) out.push_back(value.substr(start, i - start));
  }
  return out;
}

bool IsValidRelayValue(std::string_view value) {
  const std::vector<std::string_view> parts = SplitDestinations(value);
  if (parts.empty()) return false;
  if (parts.size() == 1 && EqualsIgnoreCase(parts[0], "DUNNO")) return true;
  for (std::string_view p : parts) {
    if (EqualsIgnoreCase(p, "DUNNO")) return false;
    const NextHop hop = SplitNextHop(p);
    if (!hop.valid) return false;
    for (char c : hop.host) {
      if (!IsHostNameChar(c, hop.bracketed)) return false;
    }
  }
  return true;
}

bool LooksLikeRelayValue(std::string_view value) {
  if (!IsValidRelayValue(value)) return false;
  // A name without a dot ("localhost", "admin") could be a username.
  for (std::string_view p : SplitDestinations(value)) {
    const NextHop hop = SplitNextHop(p);
    if (!hop.bracketed && hop.host.find('.') == std::string_view::npos &&
        !EqualsIgnoreCase(p, "DUNNO")) {
      return false;
    }
  }
  return true;
}

bool LooksLikeHostKey(std::string_view key) {
  if (key.find('@') != std::string_view::npos) return false;
  return !key.empty() &&
         (key.front() == '[' || key.find(':') != std::string_view::npos ||
          key.find('.') != std::string_view::npos);
}

}  // namespace mapctl
