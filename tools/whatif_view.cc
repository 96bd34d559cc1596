// whatif_view.cc - see whatif_view.h.

#include "whatif_view.h"

#include "output.h"

namespace mapctl::cli {
namespace {

// Next hops are compared without regard to case, as check compares them.
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool SameHops(const SideData& a, const View& va, const SideData& b,
              const View& vb, bool users) {
  if (va.hop_count != vb.hop_count) return false;
  for (const Hop *x = a.begin(va), *y = b.begin(vb); x != a.end(va); ++x, ++y) {
    const bool differs =
        users ? (x->user == nullptr) != (y->user == nullptr) ||
                    (x->user != nullptr && *x->user != *y->user) ||
                    x->outcome != y->outcome
              : *x->nexthop != *y->nexthop;
    if (differs) return false;
  }
  return true;
}

void AppendView(const SenderResolution& r, SideData* side) {
  View v;
  v.relay_outcome = r.relay.outcome;
  v.relay_source = r.relay.source;
  v.direct = r.relay.source == RelaySource::kRecipientDomain;
  if (!Concluded(r.relay.outcome)) {
    v.relay = side->pool.Intern(std::string(OutcomeName(r.relay.outcome)) +
                                ": " + r.relay.status.message());
  } else {
    v.relay = side->pool.Intern(r.relay.value);
  }
  v.hop_begin = static_cast<std::uint32_t>(side->hops.size());
  for (const Destination& d : r.destinations) {
    Hop h;
    h.nexthop = side->pool.Intern(d.nexthop);
    h.outcome = d.outcome;
    if (d.outcome == Outcome::kFound && d.credentials) {
      // Only usernames, as query sender masks them: a value without ':'
      // is most likely user:password mistyped, so all of it is secret.
      h.user = side->pool.Intern(d.credentials->malformed
                                     ? std::string_view("****")
                                     : std::string_view(d.credentials->username));
      h.to_default_relay = d.credentials->to_default_relay;
    }
    side->hops.push_back(h);
  }
  v.hop_count = static_cast<std::uint32_t>(side->hops.size() - v.hop_begin);
  side->views.push_back(v);
}

void AddEvidence(const SideData& side, const View& v, const std::string& sender,
                 AuthEvidence* e) {
  if (v.direct) return;
  for (const Hop* h = side.begin(v); h != side.end(v); ++h) {
    if (h->user != nullptr && !h->to_default_relay) {
      std::string hop = Lower(*h->nexthop);
      if (e->find(hop) == e->end()) e->emplace(std::move(hop), sender);
    }
  }
}

void Judge(const SideData& side, View* v, const SideData* old_side,
           const View* old_view, const std::string& sender,
           const AuthEvidence& evidence,
           const std::vector<std::string>& required, std::string* why) {
  if (!Concluded(v->relay_outcome)) {
    v->outcome =
        v->relay_outcome == Outcome::kError ? "deferred" : "unsupported";
    return;
  }
  if (v->hop_count == 0) {
    v->outcome = "no-auth";
    return;
  }
  const Hop& first = *side.begin(*v);  // smtp(8) tries the list in order
  if (first.outcome == Outcome::kError) {
    v->outcome = "deferred";
  } else if (first.outcome == Outcome::kNotEvaluated) {
    v->outcome = "unsupported";
  } else if (first.user != nullptr) {
    v->outcome = "auth";
  } else {
    v->outcome = "no-auth";
    if (v->direct) return;
    const std::string hop = Lower(*first.nexthop);
    std::string reason;
    if (old_view != nullptr) {
      for (const Hop* h = old_side->begin(*old_view);
           h != old_side->end(*old_view); ++h) {
        if (h->user != nullptr && Lower(*h->nexthop) == hop) {
          reason = "the old configuration sent credentials there";
        }
      }
    }
    if (auto it = evidence.find(hop);
        reason.empty() && it != evidence.end() && it->second != sender) {
      reason = it->second + " authenticates there";
    }
    for (const std::string& r : required) {
      if (reason.empty() && Lower(r) == hop) reason = "--auth-required names it";
    }
    if (!reason.empty()) {
      v->outcome = "bounce-530";
      if (why != nullptr) *why = *first.nexthop + " requires AUTH: " + reason;
    }
  }
}

std::string HopsText(const SideData& side, const View& v) {
  if (v.hop_count == 0) return "none";
  std::string out;
  for (const Hop* h = side.begin(v); h != side.end(v); ++h) {
    if (!out.empty()) out += ", ";
    if (h->user != nullptr) {
      out += *h->user;
    } else if (h->outcome == Outcome::kError ||
               h->outcome == Outcome::kNotEvaluated) {
      out += OutcomeName(h->outcome);
    } else {
      out += "none";
    }
    if (v.hop_count > 1) out += " (" + *h->nexthop + ")";
  }
  return out;
}

void AppendJsonSide(const SideData& side, const View& v, std::string* out) {
  *out += "{\"relay\": ";
  AppendJsonString(out, *v.relay);
  *out += ", \"relay_source\": ";
  AppendJsonString(out, RelaySourceName(v.relay_source));
  *out += ", \"destinations\": [";
  for (const Hop* h = side.begin(v); h != side.end(v); ++h) {
    if (h != side.begin(v)) *out += ", ";
    *out += "{\"nexthop\": ";
    AppendJsonString(out, *h->nexthop);
    *out += ", \"user\": ";
    if (h->user == nullptr) {
      *out += "null";
    } else {
      AppendJsonString(out, *h->user);
    }
    *out += ", \"credentials\": ";
    AppendJsonString(out, OutcomeName(h->outcome));
    *out += "}";
  }
  *out += "], \"outcome\": ";
  AppendJsonString(out, v.outcome);
  *out += "}";
}

}  // namespace mapctl::cli
