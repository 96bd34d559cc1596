// whatif_view.h - what one configuration does with one sender, as
// `mapctl whatif` compares it (cmd_whatif.cc), and the 530 rule.

#ifndef MAPCTL_TOOLS_WHATIF_VIEW_H_
#define MAPCTL_TOOLS_WHATIF_VIEW_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapctl/sender.h"

namespace mapctl::cli {

// Relay values, next hops and users repeat across senders: each side keeps
// one copy of each (a View of 100k senders is then a few MB, not a heap
// allocation per field).
class Pool {
 public:
  const std::string* Intern(std::string_view s) {
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    ids_.emplace(strings_.back(), &strings_.back());
    return &strings_.back();
  }

 private:
  std::deque<std::string> strings_;  // stable addresses
  std::unordered_map<std::string_view, const std::string*> ids_;
};

// What one side does with one sender, in the words the report compares.
struct Hop {
  const std::string* nexthop = nullptr;
  const std::string* user = nullptr;  // null: none; "****" when malformed
  Outcome outcome = Outcome::kNotFound;
  bool to_default_relay = false;
};
struct View {
  const std::string* relay = nullptr;  // the value, or why there is none
  RelaySource relay_source = RelaySource::kRecipientDomain;
  Outcome relay_outcome = Outcome::kNotFound;
  bool direct = false;  // the recipient's MX: no AUTH is needed there
  bool bad_address = false;
  std::uint32_t hop_begin = 0;  // into SideData::hops
  std::uint32_t hop_count = 0;
  const char* outcome = "";  // "auth", "no-auth", "bounce-530", ...
};
struct SideData {
  std::vector<View> views;  // one per sender
  std::vector<Hop> hops;
  Pool pool;
  const Hop* begin(const View& v) const { return hops.data() + v.hop_begin; }
  const Hop* end(const View& v) const { return begin(v) + v.hop_count; }
};

// Whether the destinations of `va` and `vb` are the same: next hops
// (users = false), or users and credential results (users = true).
bool SameHops(const SideData& a, const View& va, const SideData& b,
              const View& vb, bool users);

// Appends the view of `r` to side->views.
void AppendView(const SenderResolution& r, SideData* side);

// Next hops (lower case) where some sender authenticates, and who: check's
// evidence that a relay requires AUTH. The sender's own credentials on the
// default relay do not count.
using AuthEvidence = std::unordered_map<std::string, std::string>;
void AddEvidence(const SideData& side, const View& v, const std::string& sender,
                 AuthEvidence* e);

// Sets v->outcome; for bounce-530 *why (if not null) says which evidence:
// the old side's view of the same sender (old_view, may be null), another
// sender's credentials there (`evidence`), or `required` (--auth-required).
void Judge(const SideData& side, View* v, const SideData* old_side,
           const View* old_view, const std::string& sender,
           const AuthEvidence& evidence,
           const std::vector<std::string>& required, std::string* why);

// "user" per destination ("none" without credentials), for the text.
std::string HopsText(const SideData& side, const View& v);
// {"relay": ..., "relay_source": ..., "destinations": [...], "outcome": ...}
void AppendJsonSide(const SideData& side, const View& v, std::string* out);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_WHATIF_VIEW_H_
