// main_cf_fuzz.cc - libFuzzer target: main.cf reading and $name
// expansion (postconf(5)), and what mapctl derives from main.cf.
//
// Input: main.cf text, optionally followed by a line "%%" and a text to
// expand as a parameter value (as master.cf -o values are).
//
// Invariants besides "no crash, no hang, no sanitizer report":
// - Get() is a function: asking twice gives the same value;
// - a value without '$' expands to itself;
// - "$$" is a literal '$'.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/address.h"
#include "mapctl/config.h"

namespace {

using mapctl::fuzz::Check;

// What mapctl itself asks of main.cf (address rewriting, the sender
// search, table types, folding).
constexpr std::string_view kReadByMapctl[] = {
    "myorigin", "mydomain", "myhostname", "mydestination", "relayhost",
    "recipient_delimiter", "inet_interfaces", "proxy_interfaces",
    "sender_dependent_relayhost_maps", "smtp_sasl_password_maps",
    "default_database_type", "compatibility_level", "append_dot_mydomain",
    "smtputf8_enable", "relay_domains", "config_directory",
};

// Names of "name = value" lines, as far as a quick look can tell; Parse()
// decides what really is one.
std::set<std::string, std::less<>> DefinedNames(std::string_view text) {
  std::set<std::string, std::less<>> names;
  while (!text.empty() && names.size() < 64) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view name = line.substr(0, eq);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
      name.remove_suffix(1);
    }
    if (!name.empty()) names.emplace(name);
  }
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> part = mapctl::fuzz::Sections(input, 2);
  mapctl::MainConfig config =
      mapctl::MainConfig::Parse(part[0], "/fuzz-config", "main.cf");

  std::vector<std::string> names(std::begin(kReadByMapctl),
                                 std::end(kReadByMapctl));
  for (const std::string& n : DefinedNames(part[0])) names.push_back(n);
  for (const std::string& name : names) {
    std::string value = config.Get(name);
    Check(config.Get(name) == value, "Get() gives two answers");
    std::string raw = config.GetRaw(name);
    if (raw.find('$') == std::string::npos && name != "mydomain") {
      Check(value == raw, "a value without '$' changes when expanded");
    }
    (void)config.GetBool(name);
  }

  std::string expanded = config.ExpandText(part[1]);
  if (part[1].find('$') == std::string_view::npos) {
    Check(expanded == part[1], "text without '$' changes when expanded");
  }
  Check(config.ExpandText("$$") == "$", "\"$$\" is not a literal '$'");

  (void)mapctl::KeyFoldMode(config, false, false);
  (void)mapctl::ChecksUtf8(config, false);
  (void)mapctl::RewriteOptionsFromConfig(
      config, [](const std::string&) -> mapctl::Result<std::string> {
        return std::string("mailname.test\n");
      });
  return 0;
}
