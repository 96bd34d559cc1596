// postfix/secrets.cc - which tables hold SASL credentials, as main.cf and
// master.cf name them, and whether their values are printed masked.

#include "mapctl/secrets.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "mapctl/relay.h"
#include "postfix/master_cf.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

constexpr std::array<std::string_view, 2> kPasswordParameters = {
    "smtp_sasl_password_maps", "lmtp_sasl_password_maps"};

bool IsPasswordParameter(std::string_view name) {
  for (std::string_view p : kPasswordParameters) {
    if (name == p) return true;
  }
  return false;
}

void AddPaths(std::string_view value, std::vector<std::string>* out) {
  for (std::string_view name : SplitList(value)) {
    std::string_view n = name;
    if (n.substr(0, 6) == "proxy:") n.remove_prefix(6);
    std::size_t colon = n.find(':');
    std::string_view type =
        colon == std::string_view::npos ? "" : n.substr(0, colon);
    // Files only; pattern files hold credentials like any other table.
    if (type == "inline" || type == "static" || type == "cidr") continue;
    out->push_back(CanonicalTablePath(name));
  }
}

}  // namespace

std::string CanonicalTablePath(std::string_view table_name) {
  std::string_view n = table_name;
  if (n.substr(0, 6) == "proxy:") n.remove_prefix(6);
  if (std::size_t colon = n.find(':'); colon != std::string_view::npos &&
                                       n.substr(0, colon).find('/') ==
                                           std::string_view::npos) {
    n.remove_prefix(colon + 1);
  }
  for (std::string_view suffix : {".lmdb", ".cdb", ".db"}) {
    if (n.size() > suffix.size() &&
        n.substr(n.size() - suffix.size()) == suffix) {
      n.remove_suffix(suffix.size());
      break;
    }
  }
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(std::string(n), ec);
  if (ec) return std::string(n);
  // weakly_canonical resolves the part that exists (symlinked /etc/postfix).
  std::filesystem::path canon = std::filesystem::weakly_canonical(p, ec);
  return ec ? p.lexically_normal().string() : canon.string();
}

std::vector<std::string> CredentialTablePaths(const MainConfig& config,
                                              std::string_view master_cf) {
  std::vector<std::string> out;
  for (std::string_view param : kPasswordParameters) {
    AddPaths(config.Get(param), &out);
  }
  for (const MasterService& service : ParseMasterCf(master_cf)) {
    for (const MasterOverride& o : service.overrides) {
      if (IsPasswordParameter(o.name)) {
        AddPaths(config.ExpandText(o.value), &out);
      }
    }
  }
  return out;
}

CredentialTables::CredentialTables(const MainConfig& config,
                                   std::string_view master_cf_text)
    : paths_(CredentialTablePaths(config, master_cf_text)) {}

bool CredentialTables::Names(std::string_view table) const {
  const std::string canon =
      CanonicalTablePath(table.find(':') == std::string_view::npos
                             ? "file:" + std::string(table)
                             : std::string(table));
  for (const std::string& p : paths_) {
    if (p == canon) return true;
  }
  return false;
}

Result<bool> HoldsCredentialValues(EntryStream& entries) {
  std::string_view key, value;
  for (;;) {
    Result<bool> more = entries.Next(&key, &value);
    if (!more) return more.error();
    if (!*more) return false;
    if (!LooksLikeRelayValue(value)) return true;
  }
}

Result<bool> MaskValues(SecretsRequest request, const CredentialTables& named,
                        std::span<const std::string> tables,
                        const CredentialProbe& probe) {
  if (request != SecretsRequest::kAuto) {
    return request == SecretsRequest::kMask;
  }
  for (const std::string& table : tables) {
    if (named.Names(table)) return true;
  }
  for (const std::string& table : tables) {
    Result<bool> holds = probe(table);
    if (!holds || *holds) return holds;
  }
  return false;
}

bool MaskCredentialTable(SecretsRequest request) noexcept {
  return request != SecretsRequest::kShow;
}

}  // namespace mapctl
