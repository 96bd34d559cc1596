// check/check_tls.cc - plaintext-auth (check 11): credentials that may
// travel without TLS, per next hop, by the TLS level Postfix applies.

#include <set>

#include "check/consistency.h"
#include "mapctl/relay.h"

namespace mapctl::check {

void Consistency::JudgeTls() {
  if (!m_->Enabled("plaintext-auth") || sent_credentials_.empty()) return;
  std::string options = Lower(m_->config->Get("smtp_sasl_security_options"));
  if (options.find("noplaintext") != std::string::npos) return;
  std::string level = Lower(m_->config->Get("smtp_tls_security_level"));
  if (level.empty()) {
    level = m_->config->GetBool("smtp_enforce_tls") ? "encrypt"
            : m_->config->GetBool("smtp_use_tls")   ? "may"
                                                    : "none";
  }
  std::optional<MapList> policy;
  std::string policy_value = m_->config->Get("smtp_tls_policy_maps");
  if (!policy_value.empty()) {
    TableContext mo;
    mo.timeout = m_->options->table_timeout;
    mo.default_database_type = m_->config->Get("default_database_type");
    mo.fold = m_->fold;
    mo.check_utf8 = m_->check_utf8;
    MapListMode mode = MapListMode::kMainCf;
    if (m_->options->sources_only) {
      std::string mapped;
      for (std::string_view item : SplitDestinations(policy_value)) {
        std::string_view type = item.substr(0, item.find(':'));
        bool file = item.find(':') != item.npos &&
                    (type == "lmdb" || type == "cdb" || type == "hash" ||
                     type == "btree" || type == "texthash");
        mapped += (file ? MapSourcePath(item, m_->config->config_directory())
                        : std::string(item)) +
                  " ";
      }
      policy_value = mapped;
      mode = MapListMode::kSources;
    }
    mo.mode = mode;
    Result<MapList> l = MapList::Parse("smtp_tls_policy_maps", policy_value, mo);
    if (l) policy.emplace(std::move(*l));
  }
  const std::set<std::string_view> kRequired = {
      "encrypt", "dane-only", "fingerprint", "verify", "secure"};
  for (const auto& [nexthop, sent] : sent_credentials_) {
    std::string effective = level;
    std::string source = "smtp_tls_security_level";
    if (policy) {
      for (std::size_t i = 0; i < policy->size(); ++i) {
        Answer p = policy->Find(i, nexthop, false);
        if (p.outcome != Outcome::kFound) continue;
        std::string_view v = p.value;
        effective = Lower(v.substr(0, v.find_first_of(" \t")));
        source = "smtp_tls_policy_maps";
        break;
      }
      policy->EndBatch();
    }
    if (kRequired.count(effective) != 0) continue;
    Location at = Where(m_->password, sent.table, sent.key);
    m_->Add(at.file, at.line, Severity::kWarning, "plaintext-auth", at.key,
            Excerpt(at.key) + ": credentials for \"" + Excerpt(nexthop) +
                "\" can be sent without TLS: its TLS level is " +
                (effective.empty() ? "none" : effective) + " (" + source +
                ") and smtp_sasl_security_options allows plaintext "
                "mechanisms");
  }
}

}  // namespace mapctl::check
