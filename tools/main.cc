// main.cc - command-line wiring only. Each subcommand's behaviour lives in
// cmd_<name>.cc and goes through the public libmaps API, nothing else.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>
#include <string_view>

#include "commands.h"
#include "report.h"

namespace {

using namespace mapctl::cli;

// postmap lets the last of -N/-n (and of -r/-w) win. CLI11 does not say in
// which order flags came, so look at the words after the subcommand name.
// Returns the last of `a`/`b` seen in short-flag clusters, or 0.
char LastOf(int argc, char** argv, std::string_view subcommand, char a,
            char b) {
  char last = 0;
  bool in_subcommand = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (!in_subcommand) {
      in_subcommand = word == subcommand;
      continue;
    }
    if (word == "--") break;
    if (word.size() < 2 || word[0] != '-' || word[1] == '-') continue;
    for (std::size_t j = 1; j < word.size(); ++j) {
      if (word[j] == 'c') {  // -c DIR or -cDIR: the rest is a value
        if (j + 1 == word.size()) ++i;
        break;
      }
      if (word[j] == a || word[j] == b) last = word[j];
    }
  }
  return last;
}

void AddTableFlags(CLI::App* cmd, TableFlags* flags) {
  cmd->add_option("-c", flags->config_dir,
                  "Postfix configuration directory (default: $MAIL_CONFIG, "
                  "else /etc/postfix)");
  cmd->add_flag("-f", flags->no_fold, "do not fold keys to lower case");
  cmd->add_flag("-N", flags->nul_with_seen, ("include the terminating NUL (write); try only keys "
                      "with it (read)"));
  cmd->add_flag("-n", flags->nul_without_seen, ("omit the terminating NUL (write); try only keys "
                      "without it (read)"));
  cmd->add_flag("-u", flags->no_utf8, "disable UTF-8 support (ASCII folding, "
                                      "no UTF-8 checks)");
  cmd->add_flag("-U", flags->keep_utf8_checks,
                "accepted for postmap compatibility (only matters with -b/-h)");
  cmd->add_flag("-v", flags->verbose, "more messages on stderr (repeatable)");
}

mapctl::NulMode NulFromArgs(int argc, char** argv, std::string_view subcommand) {
  switch (LastOf(argc, argv, subcommand, 'N', 'n')) {
    case 'N':
      return mapctl::NulMode::kWith;
    case 'n':
      return mapctl::NulMode::kWithout;
    default:
      return mapctl::NulMode::kDefault;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Build, query and check Postfix lookup tables", "mapctl"};
  app.require_subcommand(1);
  app.set_version_flag("--version", MAPCTL_VERSION);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "mapctl: error: " + std::string(e.what()) +
           "\nmapctl: try 'mapctl --help'\n";
  });

  BuildArgs build;
  CLI::App* build_cmd = app.add_subcommand(
      "build", "build indexed tables from sources, like postmap");
  AddTableFlags(build_cmd, &build.flags);
  build_cmd->add_flag("-r", build.replace_seen, ("on duplicate keys, the last entry wins silently"));
  build_cmd->add_flag("-w", build.ignore_seen, ("on duplicate keys, the first entry wins silently"));
  build_cmd->add_flag("-o", build.keep_root,
                      "as root, do not give new tables the source's owner");
  build_cmd->add_flag("-p", build.plain_mode,
                      "do not copy the source's permissions: new tables "
                      "get 0644");
  build_cmd->add_flag("--strict", build.strict,
                      "treat every warning as an error: exit 1, write "
                      "nothing");
  build_cmd->add_flag("--force", build.force,
                      "write the table even when its entries are unchanged");
  build_cmd->add_flag("-j,--json", build.json,
                      "one JSON object per table: what changed");
  build_cmd->add_flag("-i", build.incremental,
                      "add entries read from stdin to the table, in place");
  build_cmd->add_option("-d", build.delete_keys,
                        "delete KEY from the table, in place (- : keys on "
                        "stdin); repeatable");
  build_cmd->add_option("table", build.tables, "[TYPE:]FILE")->required();

  QueryArgs query;
  CLI::App* query_cmd = app.add_subcommand(
      "query", "look keys up exactly, like postmap -q");
  AddTableFlags(query_cmd, &query.flags);
  query_cmd->add_flag("-j,--json", query.json, "one JSON object per line");
  query_cmd->add_option("table", query.table, "[TYPE:]FILE")->required();
  query_cmd->add_option("key", query.keys, "KEY..., or - for keys on stdin")
      ->required();

  // `query sender`: the word "sender" right after "query" always means it
  // (a table file named sender is ./sender). CLI11 would take the word as
  // query's TABLE, so main() renames the pair to this hidden subcommand.
  SenderArgs sender;
  CLI::App* sender_cmd = app.add_subcommand(
      "query-sender", "which relay and credentials Postfix uses for a sender");
  sender_cmd->group("");
  sender_cmd->add_option("-c", sender.config_dir,
                         "Postfix configuration directory");
  sender_cmd->add_flag("-j,--json", sender.json, "one JSON object per address");
  sender_cmd->add_flag("--explain", sender.explain, "list every key tried");
  sender_cmd->add_flag("--show-secrets", sender.show_secrets,
                       "print passwords unmasked");
  sender_cmd->add_flag("--resolve", sender.resolve,
                       "look up MX hosts in DNS for MX-routed next hops");
  sender_cmd->add_option("--recipient", sender.recipient,
                         "the recipient (decides the next hop without a relay)");
  sender_cmd->add_option("--relayhost", sender.relayhost, "relayhost value");
  sender_cmd->add_option("--relay-maps", sender.relay_maps,
                         "sender_dependent_relayhost_maps (bare path: source)");
  sender_cmd->add_option("--password-maps", sender.password_maps,
                         "smtp_sasl_password_maps (bare path: source)");
  sender_cmd->add_option("--recipient-delimiter", sender.recipient_delimiter,
                         "recipient_delimiter value");
  sender_cmd->add_option("--myhostname", sender.myhostname, "myhostname value");
  sender_cmd->add_option("--myorigin", sender.myorigin, "myorigin value");
  sender_cmd->add_option("--set", sender.set, "NAME=VALUE (repeatable)");
  sender_cmd->add_option("address", sender.addresses,
                         "ADDRESS..., or - for one per stdin line")
      ->required();

  DumpArgs dump;
  CLI::App* dump_cmd = app.add_subcommand(
      "dump", "print every entry as key<TAB>value, like postmap -s");
  AddTableFlags(dump_cmd, &dump.flags);
  dump_cmd->add_flag("-j,--json", dump.json, "one JSON object per line");
  dump_cmd->add_option("table", dump.tables, "[TYPE:]FILE")->required();

  DiffArgs diff;
  CLI::App* diff_cmd = app.add_subcommand(
      "diff", "compare two maps: sources (bare paths) or tables (TYPE:PATH)");
  AddTableFlags(diff_cmd, &diff.flags);
  diff_cmd->add_flag("-r", diff.replace_seen,
                     "compare a source as built with -r (last duplicate wins)");
  diff_cmd->add_flag("-w", diff.ignore_seen,
                     "compare a source as built with -w");
  diff_cmd->add_flag("-j,--json", diff.json, "one JSON object per line");
  diff_cmd->add_flag("--secrets", diff.secrets,
                     "treat both sides as credential tables (mask values)");
  diff_cmd->add_flag("--show-secrets", diff.show_secrets,
                     "print credential values unmasked");
  diff_cmd->add_option("old", diff.old_side, "source path or TYPE:PATH")
      ->required();
  diff_cmd->add_option("new", diff.new_side, "source path or TYPE:PATH")
      ->required();

  CheckArgs check;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "check the sender-dependent relay and SASL setup and stale "
               "tables");
  check_cmd->add_option("-c", check.setup.config_dir,
                        "Postfix configuration directory");
  check_cmd->add_flag("--sources-only", check.sources_only,
                      "read every map from its source; no built table");
  check_cmd->add_option("--relayhost", check.setup.relayhost, "relayhost");
  check_cmd->add_option("--relay-maps", check.setup.relay_maps,
                        "sender_dependent_relayhost_maps sources");
  check_cmd->add_option("--password-maps", check.setup.password_maps,
                        "smtp_sasl_password_maps sources");
  check_cmd->add_option("--auth-required", check.auth_required,
                        "NEXTHOP (as written in the map) that requires AUTH");
  check_cmd->add_option("--disable", check.disable, "CHECK (repeatable)");
  check_cmd->add_option("--ignore", check.ignore, "CHECK:KEY (repeatable)");
  check_cmd->add_option("--ignore-file", check.ignore_files,
                        "file of CHECK:KEY lines");
  check_cmd->add_flag("-j,--json", check.json, "one JSON object per finding");
  check_cmd->add_flag("--strict", check.strict, "warnings exit 1 too");
  check_cmd->add_flag("--resolve", check.setup.resolve,
                      "look up MX hosts in DNS for MX-routed next hops");
  check_cmd->add_option("--recipient-delimiter",
                        check.setup.recipient_delimiter,
                        "recipient_delimiter value");
  check_cmd->add_option("--myhostname", check.setup.myhostname,
                        "myhostname value");
  check_cmd->add_option("--myorigin", check.setup.myorigin, "myorigin value");
  check_cmd->add_option("--set", check.setup.set, "NAME=VALUE (repeatable)");

  ConvertArgs convert;
  CLI::App* convert_cmd = app.add_subcommand(
      "convert", "re-encode a table as another type (hash: to lmdb:, ...)");
  AddTableFlags(convert_cmd, &convert.flags);
  convert_cmd->add_flag("-o", convert.keep_root,
                        "as root, do not give the new table the source's owner");
  convert_cmd->add_flag("-p", convert.plain_mode,
                        "do not copy the source's permissions: 0644");
  convert_cmd->add_option("from", convert.from, "TYPE:PATH")->required();
  convert_cmd->add_option("to", convert.to, "TYPE:PATH, or TYPE: for the same path")
      ->required();

  VerifyArgs verify;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "check every page of a table without trusting the engine");
  verify_cmd->add_option("-c", verify.flags.config_dir,
                         "Postfix configuration directory");
  verify_cmd->add_option("table", verify.tables, "[TYPE:]FILE")->required();

  std::vector<std::string> words(argv + 1, argv + argc);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "query" && words[i + 1] == "sender") {
      words[i] = "query-sender";
      words.erase(words.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      break;
    }
    if (!words[i].empty() && words[i][0] != '-') break;  // another command
  }
  // CLI11 checks for a missing subcommand before unknown options: name an
  // unknown option before the subcommand ourselves.
  if (!words.empty() && words[0].size() > 1 && words[0][0] == '-' &&
      words[0] != "-h" && words[0] != "--help" && words[0] != "--version") {
    ReportError("unknown option: " + words[0]);
    std::fputs("mapctl: try 'mapctl --help'\n", stderr);
    return kExitTrouble;
  }
  std::reverse(words.begin(), words.end());  // CLI11 parses from the back
  try {
    app.parse(words);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; CLI11's own codes (105, 106, ...) are 2.
    return app.exit(e) == 0 ? kExitOk : kExitTrouble;
  }

  if (build_cmd->parsed()) {
    build.flags.nul = NulFromArgs(argc, argv, "build");
    switch (LastOf(argc, argv, "build", 'r', 'w')) {
      case 'r':
        build.duplicates = mapctl::DuplicatePolicy::kLast;
        break;
      case 'w':
        build.duplicates = mapctl::DuplicatePolicy::kFirst;
        break;
    }
    if (build.incremental || !build.delete_keys.empty()) {
      if (build.force || build.json) {
        ReportError("--force and -j apply to full builds, not to -i or -d");
        return kExitTrouble;
      }
      return RunUpdate(build);
    }
    return RunBuild(build);
  }
  if (sender_cmd->parsed()) return RunQuerySender(sender);
  if (query_cmd->parsed()) {
    query.flags.nul = NulFromArgs(argc, argv, "query");
    return RunQuery(query);
  }
  if (dump_cmd->parsed()) {
    dump.flags.nul = NulFromArgs(argc, argv, "dump");
    return RunDump(dump);
  }
  if (diff_cmd->parsed()) {
    diff.flags.nul = NulFromArgs(argc, argv, "diff");
    switch (LastOf(argc, argv, "diff", 'r', 'w')) {
      case 'r':
        diff.duplicates = mapctl::DuplicatePolicy::kLast;
        break;
      case 'w':
        diff.duplicates = mapctl::DuplicatePolicy::kFirst;
        break;
    }
    return RunDiff(diff);
  }
  if (convert_cmd->parsed()) {
    convert.flags.nul = NulFromArgs(argc, argv, "convert");
    return RunConvert(convert);
  }
  if (verify_cmd->parsed()) return RunVerify(verify);
  if (check_cmd->parsed()) return RunCheck(check);
  return kExitTrouble;
}
