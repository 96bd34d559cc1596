// secrets.cc - credential tables and password masking.

#include "mapctl/secrets.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "mapctl/relay.h"

namespace mapctl {
namespace {

constexpr std::array<std::string_view, 2> kPasswordParameters = {
    "smtp_sasl_password_maps", "lmtp_sasl_password_maps"};

// Table names in a parameter value: separated by commas or whitespace,
// except inside inline:{...} braces.
std::vector<std::string> SplitTableNames(std::string_view value) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  for (char c : value) {
    if (c == '{') ++depth;
    if (c == '}' && depth > 0) --depth;
    bool separator = depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
                                    c == '\n' || c == '\r');
    if (separator) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

void AddPaths(std::string_view value, std::vector<std::string>* out) {
  for (const std::string& name : SplitTableNames(value)) {
    std::string_view n = name;
    if (n.substr(0, 6) == "proxy:") n.remove_prefix(6);
    std::size_t colon = n.find(':');
    std::string_view type =
        colon == std::string_view::npos ? "" : n.substr(0, colon);
    if (type == "inline" || type == "static" || type == "pcre" ||
        type == "regexp" || type == "cidr") {
      continue;
    }
    out->push_back(CanonicalTablePath(name));
  }
}

}  // namespace

std::string MaskCredential(std::string_view value) {
  std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) return "****";
  std::string out(value.substr(0, colon));
  out += ":****";
  return out;
}

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
  // master.cf: "-o name=value" (or "-o name = value" inside { }) anywhere
  // in a service's arguments.
  std::size_t pos = 0;
  while ((pos = master_cf.find("-o", pos)) != std::string_view::npos) {
    pos += 2;
    std::size_t start = master_cf.find_first_not_of(" \t\n{", pos);
    if (start == std::string_view::npos) break;
    for (std::string_view param : kPasswordParameters) {
      if (master_cf.substr(start, param.size()) != param) continue;
      std::size_t eq = master_cf.find_first_not_of(" \t", start + param.size());
      if (eq == std::string_view::npos || master_cf[eq] != '=') continue;
      std::size_t vstart = master_cf.find_first_not_of(" \t", eq + 1);
      if (vstart == std::string_view::npos) continue;
      std::size_t vend = master_cf.find_first_of(" \t\n}", vstart);
      AddPaths(config.ExpandText(master_cf.substr(
                   vstart, vend == std::string_view::npos ? vend
                                                          : vend - vstart)),
               &out);
    }
  }
  return out;
}

}  // namespace mapctl
