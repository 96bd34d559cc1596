// cmd_whatif.cc - `mapctl whatif --senders FILE -c DIR [-c NEW_DIR]`: the
// senders whose relay, credential user or outcome differs between two
// configurations (docs/whatif.md).
//
// One -c: the tables main.cf names as Postfix reads them now (the built
// files) against their sources, mapped as `check --sources-only` maps
// them (MapSourcePath): the pre-deploy question. Two -c: OLD against NEW,
// each as Postfix would read it (--sources-only: both from sources).

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/check.h"
#include "mapctl/map_list.h"
#include "mapctl/sender.h"
#include "output.h"
#include "report.h"
#include "senders_input.h"
#include "whatif_view.h"

namespace mapctl::cli {
namespace {

struct Side {
  std::string name;  // "old" / "new"
  SenderSetup setup;
  std::unique_ptr<SenderResolver> resolver;
};

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
  // Sources read as texthash: load each on its own core.
  options.open_file_tables_now = sources;
  if (args.resolve) options.resolve_mx = ResolveMx;
  options.table_timeout = args.sql_timeout;
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
    ReportError(senders.error());
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
  if (!WriteStdoutOrReport(out)) return kExitTrouble;
  if (trouble) return kExitTrouble;
  return changed > 0 ? kExitNegative : kExitOk;
}

}  // namespace mapctl::cli
