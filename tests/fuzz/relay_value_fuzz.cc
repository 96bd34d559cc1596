// relay_value_fuzz.cc - libFuzzer target: relay values (smtp(8) next-hop
// lists, as relayhost and sender_dependent_relayhost_maps hold them) and
// credential values ("username:password").
//
// Input: one value, read both ways.
//
// Invariants besides "no crash, no sanitizer report":
// - SplitDestinations() gives non-empty pieces of the value, without
//   separators, that ParseDestinations() (the sender search's reading of
//   the same value) sees as the same destinations;
// - a parsed next hop's host is a non-empty piece of its text, and a
//   bracketed one starts with '[';
// - LooksLikeRelayValue() holds only for lists whose every element parses;
// - MaskCredential() keeps the username and nothing after it, and
//   nothing at all of a value without ':'.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/relay.h"
#include "mapctl/secrets.h"
#include "mapctl/sender.h"

namespace {

using mapctl::fuzz::Check;

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() &&
         part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);

  std::vector<std::string_view> parts = mapctl::SplitDestinations(value);
  bool all_parse = !parts.empty();
  for (std::string_view p : parts) {
    Check(!p.empty() && Inside(p, value), "a destination outside the value");
    Check(p.find_first_of(", \t\r\n") == std::string_view::npos,
          "a destination with a separator inside");
    std::optional<mapctl::NextHop> hop = mapctl::ParseNextHop(p);
    if (!hop) {
      all_parse = false;
      continue;
    }
    Check(hop->text == p, "a next hop that is not its text");
    Check(!hop->host.empty() && Inside(hop->host, p),
          "a next hop's host outside its text");
    Check(hop->port.empty() || Inside(hop->port, p),
          "a next hop's port outside its text");
    Check(!hop->bracketed || p.front() == '[',
          "a bracketed next hop without '['");
  }
  if (mapctl::LooksLikeRelayValue(value) && !(parts.size() == 1 && all_parse)) {
    bool dunno = parts.size() == 1 && parts[0].size() == 5;
    Check(all_parse || dunno, "a relay value with a bad destination");
  }

  std::vector<mapctl::Destination> dests = mapctl::ParseDestinations(value);
  Check(dests.size() == parts.size(),
        "the sender search splits a relay value differently");
  for (std::size_t i = 0; i < dests.size(); ++i) {
    Check(dests[i].nexthop == parts[i],
          "the sender search splits a relay value differently");
  }

  // Without ':' the whole value may be a password: nothing of it shows.
  std::string masked = mapctl::MaskCredential(value);
  std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) {
    Check(mapctl::IsMalformedCredential(value) && masked == "****",
          "a malformed credential is not masked whole");
  } else {
    std::string_view user = value.substr(0, colon);
    Check(!mapctl::IsMalformedCredential(value) &&
              masked.size() == user.size() + 5 &&
              std::string_view(masked).substr(0, user.size()) == user &&
              std::string_view(masked).substr(user.size()) == ":****",
          "a masked credential shows more than the username");
  }
  return 0;
}
