// postfix/sender_warnings.cc - the settings that can change which relay and
// credentials a sender gets but are outside the model of sender.h: each is
// a Warning with a stable code, worded as a fact about main.cf or
// master.cf.

#include "postfix/master_cf.h"
#include "postfix/sender_resolver.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

// The smtp(8) parameters this model reads: a master.cf -o override of one
// of them means the service behaves differently from main.cf.
bool IsSmtpClientParameter(std::string_view name) {
  for (std::string_view prefix : {"smtp_sasl_", "smtp_sender_dependent_"}) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  for (std::string_view exact :
       {"smtp_fallback_relay", "smtp_dns_support_level", "disable_dns_lookups",
        "smtp_cname_overrides_servername", "smtp_tls_security_level",
        "smtp_tls_policy_maps"}) {
    if (name == exact) return true;
  }
  return false;
}

// "transport" and "nexthop" of a transport:nexthop value (transport(5)).
void SplitTransport(std::string_view value, std::string_view* transport,
                    std::string_view* nexthop) {
  std::size_t colon = value.find(':');
  *transport = value.substr(0, colon);
  *nexthop = colon == value.npos ? std::string_view() : value.substr(colon + 1);
}

// Whether the services that default_transport (and relay_transport, when
// relay_domains is set) name run smtp(8) with main.cf's settings.
void CheckServices(const MainConfig& config, std::string_view master_cf,
                   std::vector<Warning>* out) {
  auto warn = [&](std::string code, std::string message) {
    out->push_back({std::move(code), std::move(message)});
  };
  const std::vector<MasterService> services = ParseMasterCf(master_cf);
  // relay_transport carries mail only to relay_domains (empty by default
  // from compatibility level 2).
  std::vector<std::string_view> transports = {"default_transport"};
  if (!config.Get("relay_domains").empty()) {
    transports.push_back("relay_transport");
  }
  for (std::string_view p : transports) {
    const std::string v = config.Get(p);
    std::string_view transport, nexthop;
    SplitTransport(v, &transport, &nexthop);
    const MasterService* service = nullptr;
    for (const MasterService& s : services) {
      if (s.name == transport && s.type == "unix") service = &s;
    }
    if (service == nullptr) {
      warn(std::string(p) + "_service",
           std::string(p) + " = " + v + ": master.cf has no unix service " +
               std::string(transport));
      continue;
    }
    if (service->command != "smtp") {
      warn(std::string(p) + "_service",
           "master.cf service " + service->name + " (" + std::string(p) +
               ") runs " + service->command + ", not smtp(8)");
    }
    for (const MasterOverride& o : service->overrides) {
      if (IsSmtpClientParameter(o.name)) {
        warn(std::string(p) + "_override",
             "master.cf service " + service->name + " (" + std::string(p) +
                 ") overrides " + o.name +
                 " with -o: smtp(8) uses that value, this answer main.cf's");
      }
    }
  }
}

}  // namespace

std::vector<Warning> ConfigWarnings(const MainConfig& config,
                                    std::string_view master_cf,
                                    const LocalDomainMatcher& local,
                                    bool password_maps_empty) {
  std::vector<Warning> out;
  auto warn = [&](std::string code, std::string message) {
    out.push_back({std::move(code), std::move(message)});
  };
  auto set = [&](std::string_view p) { return !config.Get(p).empty(); };
  if (set("transport_maps")) {
    warn("transport_maps",
         "transport_maps is set: an entry for the recipient overrides the "
         "relay shown here");
  }
  if (set("sender_dependent_default_transport_maps")) {
    warn("sender_dependent_default_transport_maps",
         "sender_dependent_default_transport_maps is set: a transport:nexthop "
         "result for the sender overrides the relay shown here");
  }
  for (std::string_view p : {std::string_view("default_transport"),
                             std::string_view("relay_transport")}) {
    const std::string v = config.Get(p);
    std::string_view transport, nexthop;
    SplitTransport(v, &transport, &nexthop);
    if (!nexthop.empty()) {
      warn(std::string(p) + "_nexthop",
           std::string(p) + " = " + v +
               " carries a next hop that overrides the relay shown here");
    } else if (transport != "smtp" && transport != "relay") {
      warn(std::string(p),
           std::string(p) + " = " + v +
               " is not the smtp client: this relay model may not apply");
    }
  }
  if (!master_cf.empty()) CheckServices(config, master_cf, &out);
  for (std::string_view p : {std::string_view("sender_canonical_maps"),
                             std::string_view("canonical_maps")}) {
    if (set(p)) {
      warn(std::string(p), std::string(p) +
                               " is set: cleanup(8) may rewrite the sender "
                               "before these lookups");
    }
  }
  if (set("masquerade_domains")) {
    warn("masquerade_domains",
         "masquerade_domains is set: cleanup(8) may strip the sender's "
         "subdomain before these lookups");
  }
  if (set("smtp_fallback_relay")) {
    warn("smtp_fallback_relay",
         "smtp_fallback_relay is set: when the relay is unreachable, smtp(8) "
         "uses " +
             config.Get("smtp_fallback_relay") +
             " and looks up credentials for it instead");
  }
  for (const std::string& e : local.unevaluated()) {
    warn("mydestination_unevaluated",
         "mydestination entry " + e +
             " is not evaluated: domains it lists are treated as remote");
  }
  if (local.interfaces_unknown()) {
    warn("inet_interfaces_unknown",
         "the host's interface addresses are unknown: address literals "
         "other than loopback are treated as remote");
  }
  if (config.GetBool("smtp_sasl_auth_enable") && password_maps_empty) {
    warn("smtp_sasl_password_maps_empty",
         "smtp_sasl_auth_enable = yes but smtp_sasl_password_maps is empty: "
         "smtp(8) refuses to start");
  }
  return out;
}

}  // namespace mapctl
