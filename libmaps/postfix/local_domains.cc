// postfix/local_domains.cc - Postfix's "is this domain mine" test for address
// lookups (global/resolve_local.c, and mail_addr_find.c's $myorigin check).

#include <arpa/inet.h>

#include "mapctl/address.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

// Normalized text of an IP address, or "" when `text` is not one.
std::string NormalizeIp(std::string_view text) {
  if (StartsWithIgnoreCase(text, "ipv6:")) text.remove_prefix(5);
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  }
  return "";
}

bool IsLoopback(std::string_view ip) {
  return ip == "::1" || ip.substr(0, 4) == "127.";
}

}  // namespace

struct LocalDomainMatcher::Rep {
  std::string myorigin;
  std::vector<std::string> names;  // "!" kept as first byte for negation
  std::vector<std::string> unevaluated;
  std::vector<std::string> interface_addrs;  // normalized IP text
  bool loopback_only = false;
  bool all_interfaces = false;
  bool interfaces_unknown = false;
  OwnAddressFn own_address;

  bool MatchesInterfaces(std::string_view ip) const {
    for (const std::string& a : interface_addrs) {
      if (a == ip) return true;
    }
    if ((loopback_only || all_interfaces) && IsLoopback(ip)) return true;
    if (all_interfaces && own_address) return own_address(ip);
    return false;
  }
};

LocalDomainMatcher::LocalDomainMatcher() : rep_(std::make_shared<Rep>()) {}
LocalDomainMatcher::~LocalDomainMatcher() = default;
LocalDomainMatcher::LocalDomainMatcher(const LocalDomainMatcher&) = default;
LocalDomainMatcher& LocalDomainMatcher::operator=(const LocalDomainMatcher&) =
    default;

LocalDomainMatcher::LocalDomainMatcher(std::string myorigin,
                                       std::string_view mydestination,
                                       std::string_view inet_interfaces,
                                       std::string_view proxy_interfaces,
                                       OwnAddressFn own_address) {
  auto rep = std::make_shared<Rep>();
  rep->myorigin = std::move(myorigin);
  rep->own_address = std::move(own_address);
  for (std::string_view e : SplitList(mydestination)) {
    std::string_view body = e;
    if (!body.empty() && body.front() == '!') body.remove_prefix(1);
    if (!body.empty() && (body.front() == '/' || body.find(':') != body.npos)) {
      rep->unevaluated.emplace_back(e);
    } else {
      rep->names.emplace_back(e);
    }
  }
  auto add_interfaces = [&](std::string_view list) {
    for (std::string_view e : SplitList(list)) {
      if (EqualsIgnoreCase(e, "all")) {
        rep->all_interfaces = true;
      } else if (EqualsIgnoreCase(e, "loopback-only")) {
        rep->loopback_only = true;
      } else if (std::string ip = NormalizeIp(e); !ip.empty()) {
        rep->interface_addrs.push_back(ip);
      } else {
        rep->interfaces_unknown = true;  // a host name: needs DNS
      }
    }
  };
  add_interfaces(inet_interfaces);
  add_interfaces(proxy_interfaces);
  if (rep->all_interfaces && !rep->own_address) rep->interfaces_unknown = true;
  rep_ = std::move(rep);
}

const std::vector<std::string>& LocalDomainMatcher::unevaluated()
    const noexcept {
  return rep_->unevaluated;
}

bool LocalDomainMatcher::has_unevaluated() const noexcept {
  return !rep_->unevaluated.empty();
}

bool LocalDomainMatcher::interfaces_unknown() const noexcept {
  return rep_->interfaces_unknown;
}

bool LocalDomainMatcher::IsLocal(std::string_view domain) const {
  const Rep& r = *rep_;
  // mail_addr_find.c compares with $myorigin first, as written.
  if (!r.myorigin.empty() && EqualsIgnoreCase(domain, r.myorigin)) return true;
  // resolve_local.c: one trailing dot, but not "..".
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.back() == '.') return false;
  // match_list: the first entry that matches decides; "!x" says no.
  for (const std::string& e : r.names) {
    bool negated = !e.empty() && e.front() == '!';
    std::string_view name = negated ? std::string_view(e).substr(1) : e;
    if (EqualsIgnoreCase(name, domain)) return !negated;
  }
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    std::string ip = NormalizeIp(domain.substr(1, domain.size() - 2));
    if (!ip.empty()) return r.MatchesInterfaces(ip);
  }
  return false;
}

}  // namespace mapctl
