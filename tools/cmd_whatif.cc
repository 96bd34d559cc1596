// cmd_whatif.cc - `mapctl whatif --senders FILE -c DIR [-c NEW_DIR]`: the
// senders whose relay, credential user or outcome differs between two
// configurations (docs/whatif.md).
//
// One -c: the tables main.cf names as Postfix reads them now (the built
// files) against their sources, mapped as `check --sources-only` maps
// them (MapSourcePath): the pre-deploy question. Two -c: OLD against NEW,
// each as Postfix would read it (--sources-only: both from sources).

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/check.h"
#include "mapctl/map_list.h"
#include "mapctl/sender.h"
#include "output.h"
#include "report.h"
#include "senders_input.h"

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

struct Side {
  std::string name;  // "old" / "new"
  SenderSetup setup;
  std::unique_ptr<SenderResolver> resolver;
};

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

// The table lists of main.cf with each file table replaced by its source
// (check's sources-only mapping), for SenderResolverOptions.
Result<std::string> SourcesOf(const MainConfig& config,
                              std::string_view parameter) {
  TableContext context;
  context.default_database_type = config.Get("default_database_type");
  Result<MapList> list = MapList::Parse(parameter, config.Get(parameter), context);
  if (!list) return list.error();
  std::string value;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const LookupTable& t = list->table(i);
    std::string item = t.name();
    if (t.spec() != nullptr && t.spec()->type != TableType::kTexthash) {
      std::string source = MapSourcePath(t.name(), config.config_directory());
      // Every sender would otherwise show the same table error.
      if (access(source.c_str(), R_OK) != 0) {
        return Status::IoError(std::string(parameter) + ": the source of " +
                                   t.display() + ": open " + source,
                               errno);
      }
      ReportInfo("note: " + std::string(parameter) + ": " + t.display() +
                 " read from its source " + source);
      item = "texthash:" + source;
    }
    if (!value.empty()) value += ", ";
    value += item;
  }
  return value;
}

Status OpenSide(const WhatifArgs& args, const std::string& dir, bool sources,
                Side* side) {
  SenderArgs sender_args;
  sender_args.config_dir = dir;
  sender_args.resolve = args.resolve;
  sender_args.recipient = args.recipient;
  Result<SenderSetup> setup = LoadSenderConfig(sender_args);
  if (!setup) return setup.error();
  side->setup = std::move(setup).value();
  const MainConfig& config = side->setup.config;
  for (const Diagnostic& d : config.diagnostics()) ReportDiagnostic(d);
  SenderResolverOptions options;
  options.own_address = IsOwnAddress;
  if (args.resolve) options.resolve_mx = ResolveMx;
  std::ifstream master(config.config_directory() + "/master.cf");
  std::ostringstream text;
  text << master.rdbuf();
  options.master_cf = text.str();
  if (sources) {
    Result<std::string> relay =
        SourcesOf(config, "sender_dependent_relayhost_maps");
    if (!relay) return relay.error();
    Result<std::string> passwords = SourcesOf(config, "smtp_sasl_password_maps");
    if (!passwords) return passwords.error();
    options.relay_maps = std::move(relay).value();
    options.password_maps = std::move(passwords).value();
  }
  Result<std::unique_ptr<SenderResolver>> resolver =
      SenderResolver::Create(config, options);
  if (!resolver) return resolver.error();
  side->resolver = std::move(resolver).value();
  return Status::Ok();
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

// Next hops (lower case) where some sender authenticates, and who: check's
// evidence that a relay requires AUTH. The sender's own credentials on the
// default relay do not count.
using AuthEvidence = std::unordered_map<std::string, std::string>;

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

// The outcome words of one side, and (bounce-530) why AUTH is required.
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

}  // namespace

int RunWhatif(const WhatifArgs& args) {
  if (args.config_dirs.size() > 2) {
    ReportError("whatif: give -c once (deployed tables vs sources) or twice "
                "(OLD NEW)");
    return kExitTrouble;
  }
  const bool one_dir = args.config_dirs.size() < 2;
  if (one_dir && args.sources_only) {
    ReportError("--sources-only needs two -c: with one, the new side is "
                "already the sources");
    return kExitTrouble;
  }
  Result<SenderList> senders = ReadSendersOption(args.senders_file);
  if (!senders) {
    ReportError("--senders " + args.senders_file + ": " +
                senders.error().message());
    return kExitTrouble;
  }
  Side sides[2];
  sides[0].name = "old";
  sides[1].name = "new";
  const std::string first = args.config_dirs.empty() ? "" : args.config_dirs[0];
  const std::string second = one_dir ? first : args.config_dirs[1];
  for (int i = 0; i < 2; ++i) {
    const bool sources = one_dir ? i == 1 : args.sources_only;
    Status s = OpenSide(args, i == 0 ? first : second, sources, &sides[i]);
    if (!s.ok()) {
      ReportError(sides[i].name + ": " + s.message());
      return kExitTrouble;
    }
  }

  // Every sender on both sides first: the evidence that a relay requires
  // AUTH comes from all of them. One resolver per side, so the sides run
  // on two threads (a resolver is not thread-safe, two are independent);
  // with --resolve on the calling thread only, as check does.
  const std::vector<std::string>& list = senders->senders;
  SideData data[2];
  std::vector<std::string> errors(list.size());  // the old side's words
  auto resolve_side = [&](int s) {
    SideData& side = data[s];
    side.views.reserve(list.size());
    side.hops.reserve(list.size());
    SenderResolution resolution;
    for (std::size_t i = 0; i < list.size(); ++i) {
      Status st = sides[s].resolver->Resolve(list[i], args.recipient, &resolution);
      if (!st.ok()) {
        if (s == 0) errors[i] = st.message();
        View bad;
        bad.bad_address = true;
        side.views.push_back(bad);
        continue;
      }
      AppendView(resolution, &side);
      if (i % 4096 == 4095) sides[s].resolver->EndBatch();
    }
    sides[s].resolver->EndBatch();
  };
  if (args.resolve) {
    resolve_side(0);
    resolve_side(1);
  } else {
    std::thread other(resolve_side, 1);
    resolve_side(0);
    other.join();
  }
  bool trouble = false;
  AuthEvidence evidence;
  std::vector<std::size_t> index;  // the senders both sides resolved
  index.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (data[0].views[i].bad_address || data[1].views[i].bad_address) {
      std::string message = Printable(list[i]);
      message.insert(0, 1, '"');
      message += "\": ";
      message += errors[i].empty() ? "cannot be parsed" : errors[i];
      ReportError(message);
      trouble = true;
      continue;
    }
    index.push_back(i);
    for (const SideData& side : data) {
      AddEvidence(side, side.views[i], list[i], &evidence);
    }
  }

  std::size_t changed = 0, relay = 0, users = 0, outcome = 0, lost = 0;
  std::string out;
  for (std::size_t k : index) {
    View& old_view = data[0].views[k];
    View& new_view = data[1].views[k];
    const std::string& sender = list[k];
    std::string why;
    Judge(data[0], &old_view, nullptr, nullptr, sender, evidence,
          args.auth_required, nullptr);
    Judge(data[1], &new_view, &data[0], &old_view, sender, evidence,
          args.auth_required, &why);
    const bool relay_changed =
        *old_view.relay != *new_view.relay ||
        old_view.relay_outcome != new_view.relay_outcome ||
        !SameHops(data[0], old_view, data[1], new_view, false);
    const bool users_changed =
        !SameHops(data[0], old_view, data[1], new_view, true);
    const bool outcome_changed =
        std::string_view(old_view.outcome) != new_view.outcome;
    if (!relay_changed && !users_changed && !outcome_changed) continue;
    const bool loses = std::string_view(new_view.outcome) == "bounce-530" &&
                       std::string_view(old_view.outcome) != "bounce-530";
    ++changed;
    relay += relay_changed;
    users += users_changed;
    outcome += outcome_changed;
    lost += loses;
    if (args.json) {
      out += "{\"sender\": ";
      AppendJsonString(&out, sender);
      out += ", \"changed\": [";
      const char* sep = "";
      for (auto [flag, word] : {std::pair{relay_changed, "relay"},
                                std::pair{users_changed, "credentials"},
                                std::pair{outcome_changed, "outcome"}}) {
        if (!flag) continue;
        out += sep;
        out += "\"" + std::string(word) + "\"";
        sep = ", ";
      }
      out += "], \"old\": ";
      AppendJsonSide(data[0], old_view, &out);
      out += ", \"new\": ";
      AppendJsonSide(data[1], new_view, &out);
      out += ", \"loses_credentials\": ";
      out += loses ? "true" : "false";
      out += ", \"why\": ";
      if (why.empty()) {
        out += "null";
      } else {
        AppendJsonString(&out, why);
      }
      out += "}\n";
      continue;
    }
    if (changed > 1) out += "\n";
    out += "sender      " + Printable(sender) + "\n";
    out += "relay       " + Printable(*old_view.relay);
    if (relay_changed) out += " -> " + Printable(*new_view.relay);
    out += "\ncredentials " + Printable(HopsText(data[0], old_view));
    if (users_changed) out += " -> " + Printable(HopsText(data[1], new_view));
    out += "\noutcome     ";
    out += old_view.outcome;
    if (outcome_changed) {
      out += " -> ";
      out += new_view.outcome;
    }
    out += "\n";
    if (loses) {
      out += "lost        credentials: " + Printable(why) +
             "; Postfix would bounce the mail with 530\n";
    }
    if (out.size() > (1 << 16) && !WriteStdout(out)) break;
    if (out.size() > (1 << 16)) out.clear();
  }
  const std::string summary =
      std::to_string(index.size()) + " senders compared, " +
      std::to_string(changed) + " changed (relay " + std::to_string(relay) +
      ", credentials " + std::to_string(users) + ", outcome " +
      std::to_string(outcome) + "), " + std::to_string(lost) +
      " would lose credentials (530)";
  if (args.json) {
    out += "{\"summary\": {\"senders\": " + std::to_string(index.size()) +
           ", \"changed\": " + std::to_string(changed) +
           ", \"relay\": " + std::to_string(relay) +
           ", \"credentials\": " + std::to_string(users) +
           ", \"outcome\": " + std::to_string(outcome) +
           ", \"lose_credentials\": " + std::to_string(lost) + "}}\n";
  } else {
    if (changed > 0) out += "\n";
    out += summary + "\n";
  }
  if (!WriteStdout(out)) {
    ReportError(Status::IoError("write standard output", errno));
    return kExitTrouble;
  }
  if (trouble) return kExitTrouble;
  return changed > 0 ? kExitNegative : kExitOk;
}

}  // namespace mapctl::cli
