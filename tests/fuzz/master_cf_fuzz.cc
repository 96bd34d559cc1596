// master_cf_fuzz.cc - libFuzzer target: master.cf reading (master(5)).
//
// Input: master.cf text. Two readers see it: ParseMasterCf() (services
// and their -o overrides; what the sender search checks) and
// CredentialTablePaths() (which tables hold passwords, so that dump and
// diff mask them).
//
// Invariants besides "no crash, no sanitizer report":
// - a service has a name, a type and a command, none with whitespace;
// - an override has a name without whitespace around it;
// - every smtp_/lmtp_sasl_password_maps table that ParseMasterCf() finds
//   in an override is one CredentialTablePaths() reports: a miss would
//   print that table's passwords unmasked.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/config.h"
#include "mapctl/secrets.h"
#include "postfix/master_cf.h"

namespace {

using mapctl::fuzz::Check;

bool HasSpace(std::string_view s) {
  return s.find_first_of(" \t\r\n\f\v") != std::string_view::npos;
}

// Table names of a parameter value as the credential reader splits them:
// commas and whitespace, except inside inline:{...}; tables without a
// file (inline, static, pattern tables) left out.
std::vector<std::string> FileTableNames(std::string_view value) {
  std::vector<std::string> names;
  std::string current;
  int depth = 0;
  auto flush = [&]() {
    std::string_view n = current;
    if (n.substr(0, 6) == "proxy:") n.remove_prefix(6);
    std::string_view type = n.substr(0, n.find(':'));
    if (n.find(':') == std::string_view::npos) type = "";
    if (!current.empty() && type != "inline" && type != "static" &&
        type != "pcre" && type != "regexp" && type != "cidr") {
      names.push_back(current);
    }
    current.clear();
  };
  for (char c : value) {
    if (c == '{') ++depth;
    if (c == '}' && depth > 0) --depth;
    if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' ||
                       c == '\r')) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<mapctl::MasterService> services = mapctl::ParseMasterCf(text);
  // No main.cf: only master.cf names credential tables.
  mapctl::MainConfig config("/fuzz-config");
  std::vector<std::string> credential_paths =
      mapctl::CredentialTablePaths(config, text);

  // An unclosed "-o {" makes ParseMasterCf() take the rest of the line
  // as the value; master(8) refuses such a file, so no answer is right.
  const bool balanced = std::count(text.begin(), text.end(), '{') ==
                        std::count(text.begin(), text.end(), '}');
  for (const mapctl::MasterService& s : services) {
    Check(!s.name.empty() && !s.type.empty() && !s.command.empty(),
          "a service without a name, type or command");
    Check(!HasSpace(s.name) && !HasSpace(s.type) && !HasSpace(s.command),
          "whitespace inside a service's name, type or command");
    for (const mapctl::MasterOverride& o : s.overrides) {
      const std::string& name = o.name;
      const std::string& value = o.value;
      Check(name.empty() ||
                (!HasSpace(name.substr(0, 1)) &&
                 !HasSpace(name.substr(name.size() - 1))),
            "an override name with whitespace around it");
      if (!balanced || (name != "smtp_sasl_password_maps" &&
                        name != "lmtp_sasl_password_maps")) {
        continue;
      }
      for (const std::string& table : FileTableNames(config.ExpandText(value))) {
        std::string path = mapctl::CanonicalTablePath(table);
        bool reported = false;
        for (const std::string& p : credential_paths) reported |= p == path;
        Check(reported,
              "a master.cf credential table CredentialTablePaths misses");
      }
    }
  }
  return 0;
}
