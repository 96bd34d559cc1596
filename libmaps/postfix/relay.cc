// postfix/relay.cc - parsing next-hop destinations (smtp(8) "nexthop").

#include "mapctl/relay.h"

#include <netdb.h>

#include <cctype>
#include <string>

namespace mapctl {
namespace {

bool IsSpaceOrComma(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
         c == '\f' || c == '\v';
}

bool ValidPort(std::string_view port) {
  if (port.empty()) return false;
  bool digits = true;
  for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    if (port.size() > 5) return false;
    int n = std::stoi(std::string(port));
    return n >= 1 && n <= 65535;
  }
  // A service name, as smtp(8) resolves it through services(5).
  std::string name(port);
  return getservbyname(name.c_str(), "tcp") != nullptr;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<NextHop> ParseNextHop(std::string_view text) {
  NextHop hop;
  hop.text = text;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    hop.host = text.substr(1, close - 1);
    hop.bracketed = true;
    rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      hop.port = rest.substr(1);
      if (!ValidPort(hop.port)) return std::nullopt;
    }
    return hop;
  }
  std::size_t colon = text.rfind(':');
  hop.host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (hop.host.empty() || hop.host.find_first_of("[]@") != std::string_view::npos) {
    return std::nullopt;
  }
  if (colon != std::string_view::npos) {
    hop.port = text.substr(colon + 1);
    if (!ValidPort(hop.port)) return std::nullopt;
  }
  return hop;
}

std::vector<std::string_view> SplitDestinations(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && IsSpaceOrComma(value[i])) ++i;
    std::size_t start = i;
    while (i < value.size() && !IsSpaceOrComma(value[i])) ++i;
    if (i > start) out.push_back(value.substr(start, i - start));
  }
  return out;
}

bool IsRelayValue(std::string_view value) {
  std::vector<std::string_view> parts = SplitDestinations(value);
  if (parts.empty()) return false;
  if (parts.size() == 1 && EqualsIgnoreCase(parts[0], "DUNNO")) return true;
  for (std::string_view part : parts) {
    std::optional<NextHop> hop = ParseNextHop(part);
    if (!hop) return false;
    if (!hop->bracketed && hop->host.find('.') == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace mapctl
