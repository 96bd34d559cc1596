// cli_commands.cc - each subcommand's options. The settings query sender
// and check share (the main.cf stand-ins of SenderArgs) are added by one
// set of functions, each command keeping its own help words and order.

#include "cli_commands.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "commands.h"
#include "report.h"

namespace mapctl::cli {
namespace {

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
  cmd->add_flag("-N", flags->nul_with_seen,
                ("include the terminating NUL (write); try only keys "
                 "with it (read)"));
  cmd->add_flag("-n", flags->nul_without_seen,
                ("omit the terminating NUL (write); try only keys "
                 "without it (read)"));
  cmd->add_flag("-u", flags->no_utf8,
                "disable UTF-8 support (ASCII folding, "
                "no UTF-8 checks)");
  cmd->add_flag("-U", flags->keep_utf8_checks,
                "accepted for postmap compatibility (only matters with -b/-h)");
  cmd->add_flag("-v", flags->verbose, "more messages on stderr (repeatable)");
}

NulMode NulFromArgs(int argc, char** argv, std::string_view subcommand) {
  switch (LastOf(argc, argv, subcommand, 'N', 'n')) {
    case 'N':
      return NulMode::kWith;
    case 'n':
      return NulMode::kWithout;
    default:
      return NulMode::kDefault;
  }
}

// The last of -r/-w after `subcommand`, as postmap lets it win.
DuplicatePolicy DuplicatesFromArgs(int argc, char** argv,
                                   std::string_view subcommand,
                                   DuplicatePolicy otherwise) {
  switch (LastOf(argc, argv, subcommand, 'r', 'w')) {
    case 'r':
      return DuplicatePolicy::kLast;
    case 'w':
      return DuplicatePolicy::kFirst;
    default:
      return otherwise;
  }
}

// "SECONDS" as --sql-timeout takes it: digits with an optional fraction,
// more than 0 and at most a day; in milliseconds, rounded up. Nothing
// else (no sign, exponent, hex, "inf"), so that a typo is never a bound.
std::optional<SqlTimeout> ParseSeconds(std::string_view text) {
  constexpr long long kMaxMs = 86400LL * 1000;
  long long ms = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    ms = ms * 10 + (text[i] - '0') * 1000;
    if (ms > kMaxMs) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    long long scale = 100;
    bool rest = false;  // a digit beyond milliseconds rounds up
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (scale > 0) {
        ms += (text[i] - '0') * scale;
        scale /= 10;
      } else {
        rest = rest || text[i] != '0';
      }
    }
    if (rest) ++ms;
  }
  if (i != text.size() || ms <= 0 || ms > kMaxMs) return std::nullopt;
  return SqlTimeout(ms);
}

// --sql-timeout for every command that opens SQL tables.
void AddSqlTimeout(CLI::App* cmd, SqlTimeout* timeout) {
  cmd->add_option_function<std::string>(
         "--sql-timeout",
         [timeout](const std::string& text) {
           std::optional<SqlTimeout> t = ParseSeconds(text);
           if (!t) {
             throw CLI::ValidationError(
                 "--sql-timeout \"" + text + "\"",
                 "expected a number of seconds greater than 0 and at most "
                 "86400");
           }
           *timeout = *t;
         },
         "seconds an SQL server may take to connect and to answer each "
         "query (default 30)")
      ->type_name("SECONDS");
}

// The settings of query sender and check (SenderArgs), defined once.
void AddSetupConfigDir(CLI::App* cmd, SenderArgs* setup) {
  cmd->add_option("-c", setup->config_dir, "Postfix configuration directory");
}

void AddSetupResolve(CLI::App* cmd, SenderArgs* setup) {
  cmd->add_flag("--resolve", setup->resolve,
                "look up MX hosts in DNS for MX-routed next hops");
}

// relayhost and the two table lists; `what` words each for the command.
struct SetupMapWords {
  const char* relayhost;
  const char* relay_maps;
  const char* password_maps;
};

void AddSetupMaps(CLI::App* cmd, SenderArgs* setup,
                  const SetupMapWords& words) {
  cmd->add_option("--relayhost", setup->relayhost, words.relayhost);
  cmd->add_option("--relay-maps", setup->relay_maps, words.relay_maps);
  cmd->add_option("--password-maps", setup->password_maps, words.password_maps);
}

void AddSetupAddressRules(CLI::App* cmd, SenderArgs* setup) {
  cmd->add_option("--recipient-delimiter", setup->recipient_delimiter,
                  "recipient_delimiter value");
  cmd->add_option("--myhostname", setup->myhostname, "myhostname value");
  cmd->add_option("--myorigin", setup->myorigin, "myorigin value");
  cmd->add_option("--set", setup->set, "NAME=VALUE (repeatable)");
}

}  // namespace

Command AddBuildCommand(CLI::App& app) {
  auto build = std::make_shared<BuildArgs>();
  CLI::App* build_cmd = app.add_subcommand(
      "build", "build indexed tables from sources, like postmap");
  AddTableFlags(build_cmd, &build->flags);
  build_cmd->add_flag("-r", build->replace_seen,
                      ("on duplicate keys, the last entry wins silently"));
  build_cmd->add_flag("-w", build->ignore_seen,
                      ("on duplicate keys, the first entry wins silently"));
  build_cmd->add_flag("-o", build->keep_root,
                      "as root, do not give new tables the source's owner");
  build_cmd->add_flag("-p", build->plain_mode,
                      "do not copy the source's permissions: new tables "
                      "get 0644");
  build_cmd->add_flag("--strict", build->strict,
                      "treat every warning as an error: exit 1, write "
                      "nothing");
  build_cmd->add_flag("--force", build->force,
                      "write the table even when its entries are unchanged");
  build_cmd->add_flag("-j,--json", build->json,
                      "one JSON object per table: what changed");
  build_cmd->add_flag("-i", build->incremental,
                      "add entries read from stdin to the table, in place");
  build_cmd->add_option("-d", build->delete_keys,
                        "delete KEY from the table, in place (- : keys on "
                        "stdin); repeatable");
  build_cmd->add_option("table", build->tables, "[TYPE:]FILE")->required();
  return {
      build_cmd, [build](int argc, char** argv) -> int {
        build->flags.nul = NulFromArgs(argc, argv, "build");
        build->duplicates =
            DuplicatesFromArgs(argc, argv, "build", build->duplicates);
        if (build->incremental || !build->delete_keys.empty()) {
          if (build->force || build->json) {
            ReportError("--force and -j apply to full builds, not to -i or -d");
            return kExitTrouble;
          }
          return RunUpdate(*build);
        }
        return RunBuild(*build);
      }};
}

Command AddQueryCommand(CLI::App& app) {
  auto query = std::make_shared<QueryArgs>();
  CLI::App* query_cmd =
      app.add_subcommand("query", "look keys up exactly, like postmap -q");
  AddTableFlags(query_cmd, &query->flags);
  query_cmd->add_flag("-j,--json", query->json, "one JSON object per line");
  AddSqlTimeout(query_cmd, &query->sql_timeout);
  query_cmd->add_option("table", query->table, "[TYPE:]FILE")->required();
  query_cmd->add_option("key", query->keys, "KEY..., or - for keys on stdin")
      ->required();
  return {query_cmd, [query](int argc, char** argv) {
            query->flags.nul = NulFromArgs(argc, argv, "query");
            return RunQuery(*query);
          }};
}

Command AddQuerySenderCommand(CLI::App& app) {
  // `query sender`: the word "sender" right after "query" always means it
  // (a table file named sender is ./sender). CLI11 would take the word as
  // query's TABLE, so main() renames the pair to this hidden subcommand.
  auto sender = std::make_shared<SenderArgs>();
  CLI::App* sender_cmd = app.add_subcommand(
      "query-sender", "which relay and credentials Postfix uses for a sender");
  sender_cmd->group("");
  AddSetupConfigDir(sender_cmd, sender.get());
  sender_cmd->add_flag("-j,--json", sender->json,
                       "one JSON object per address");
  sender_cmd->add_flag("--explain", sender->explain, "list every key tried");
  sender_cmd->add_flag("--show-secrets", sender->show_secrets,
                       "print passwords unmasked");
  AddSetupResolve(sender_cmd, sender.get());
  AddSqlTimeout(sender_cmd, &sender->sql_timeout);
  sender_cmd->add_option(
      "--recipient", sender->recipient,
      "the recipient (decides the next hop without a relay)");
  AddSetupMaps(
      sender_cmd, sender.get(),
      {"relayhost value", "sender_dependent_relayhost_maps (bare path: source)",
       "smtp_sasl_password_maps (bare path: source)"});
  AddSetupAddressRules(sender_cmd, sender.get());
  sender_cmd->add_option("--senders", sender->senders_file,
                         "FILE of senders (addresses or a maillog), - for "
                         "stdin");
  sender_cmd->add_option("address", sender->addresses,
                         "ADDRESS..., or - for one per stdin line");
  return {sender_cmd, [sender](int argc, char** argv) {
            (void)argc;
            (void)argv;
            return RunQuerySender(*sender);
          }};
}

Command AddDumpCommand(CLI::App& app) {
  auto dump = std::make_shared<DumpArgs>();
  CLI::App* dump_cmd = app.add_subcommand(
      "dump", "print every entry as key<TAB>value, like postmap -s");
  AddTableFlags(dump_cmd, &dump->flags);
  dump_cmd->add_flag("-j,--json", dump->json, "one JSON object per line");
  dump_cmd->add_option("table", dump->tables, "[TYPE:]FILE")->required();
  return {dump_cmd, [dump](int argc, char** argv) {
            dump->flags.nul = NulFromArgs(argc, argv, "dump");
            return RunDump(*dump);
          }};
}

Command AddDiffCommand(CLI::App& app) {
  auto diff = std::make_shared<DiffArgs>();
  CLI::App* diff_cmd = app.add_subcommand(
      "diff", "compare two maps: sources (bare paths) or tables (TYPE:PATH)");
  AddTableFlags(diff_cmd, &diff->flags);
  diff_cmd->add_flag("-r", diff->replace_seen,
                     "compare a source as built with -r (last duplicate wins)");
  diff_cmd->add_flag("-w", diff->ignore_seen,
                     "compare a source as built with -w");
  diff_cmd->add_flag("-j,--json", diff->json, "one JSON object per line");
  diff_cmd->add_flag("--secrets", diff->secrets,
                     "treat both sides as credential tables (mask values)");
  diff_cmd->add_flag("--show-secrets", diff->show_secrets,
                     "print credential values unmasked");
  diff_cmd->add_option("old", diff->old_side, "source path or TYPE:PATH")
      ->required();
  diff_cmd->add_option("new", diff->new_side, "source path or TYPE:PATH")
      ->required();
  return {diff_cmd, [diff](int argc, char** argv) {
            diff->flags.nul = NulFromArgs(argc, argv, "diff");
            diff->duplicates =
                DuplicatesFromArgs(argc, argv, "diff", diff->duplicates);
            return RunDiff(*diff);
          }};
}

Command AddCheckCommand(CLI::App& app) {
  auto check = std::make_shared<CheckArgs>();
  CLI::App* check_cmd = app.add_subcommand(
      "check",
      "check the sender-dependent relay and SASL setup and stale "
      "tables");
  AddSetupConfigDir(check_cmd, &check->setup);
  check_cmd->add_flag("--sources-only", check->sources_only,
                      "read every map from its source; no built table");
  AddSetupMaps(check_cmd, &check->setup,
               {"relayhost", "sender_dependent_relayhost_maps sources",
                "smtp_sasl_password_maps sources"});
  check_cmd->add_option("--auth-required", check->auth_required,
                        "NEXTHOP (as written in the map) that requires AUTH");
  check_cmd->add_option("--disable", check->disable, "CHECK (repeatable)");
  check_cmd->add_option("--ignore", check->ignore, "CHECK:KEY (repeatable)");
  check_cmd->add_option("--ignore-file", check->ignore_files,
                        "file of CHECK:KEY lines");
  check_cmd->add_option("--senders", check->setup.senders_file,
                        "FILE of senders to resolve too (addresses or a "
                        "maillog), - for stdin");
  check_cmd->add_flag("-j,--json", check->json, "one JSON object per finding");
  check_cmd->add_flag("--strict", check->strict, "warnings exit 1 too");
  AddSetupResolve(check_cmd, &check->setup);
  AddSqlTimeout(check_cmd, &check->setup.sql_timeout);
  AddSetupAddressRules(check_cmd, &check->setup);
  return {check_cmd, [check](int argc, char** argv) {
            (void)argc;
            (void)argv;
            return RunCheck(*check);
          }};
}

Command AddConvertCommand(CLI::App& app) {
  auto convert = std::make_shared<ConvertArgs>();
  CLI::App* convert_cmd = app.add_subcommand(
      "convert", "re-encode a table as another type (hash: to lmdb:, ...)");
  AddTableFlags(convert_cmd, &convert->flags);
  convert_cmd->add_flag(
      "-o", convert->keep_root,
      "as root, do not give the new table the source's owner");
  convert_cmd->add_flag("-p", convert->plain_mode,
                        "do not copy the source's permissions: 0644");
  convert_cmd->add_option("from", convert->from, "TYPE:PATH")->required();
  convert_cmd
      ->add_option("to", convert->to, "TYPE:PATH, or TYPE: for the same path")
      ->required();
  return {convert_cmd, [convert](int argc, char** argv) {
            convert->flags.nul = NulFromArgs(argc, argv, "convert");
            return RunConvert(*convert);
          }};
}

Command AddVerifyCommand(CLI::App& app) {
  auto verify = std::make_shared<VerifyArgs>();
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "check every page of a table without trusting the engine");
  verify_cmd->add_option("-c", verify->flags.config_dir,
                         "Postfix configuration directory");
  verify_cmd->add_option("table", verify->tables, "[TYPE:]FILE")->required();
  return {verify_cmd, [verify](int argc, char** argv) {
            (void)argc;
            (void)argv;
            return RunVerify(*verify);
          }};
}

Command AddWhatifCommand(CLI::App& app) {
  auto whatif = std::make_shared<WhatifArgs>();
  CLI::App* cmd = app.add_subcommand(
      "whatif",
      "which senders change relay, credentials or outcome between two "
      "configurations");
  cmd->add_option("-c", whatif->config_dirs,
                  "config dir: once (deployed tables vs their sources) or "
                  "twice (OLD NEW)");
  cmd->add_option("--senders", whatif->senders_file,
                  "FILE of senders (addresses or a maillog), - for stdin")
      ->required();
  cmd->add_flag("--sources-only", whatif->sources_only,
                "with two -c: read both sides' maps from their sources");
  cmd->add_option("--auth-required", whatif->auth_required,
                  "NEXTHOP (as written in the map) that requires AUTH");
  cmd->add_option("--recipient", whatif->recipient,
                  "the recipient (decides the next hop without a relay)");
  cmd->add_flag("--resolve", whatif->resolve,
                "look up MX hosts in DNS for MX-routed next hops");
  AddSqlTimeout(cmd, &whatif->sql_timeout);
  cmd->add_flag("-j,--json", whatif->json, "one JSON object per sender");
  return {cmd, [whatif](int argc, char** argv) {
            (void)argc;
            (void)argv;
            return RunWhatif(*whatif);
          }};
}

void OneValuePerOption(const std::vector<Command>& commands) {
  for (const Command& c : commands) {
    for (CLI::Option* o : c.app->get_options()) {
      // CLI11 lets a vector option take every following word that is not
      // an option; positionals keep their own rules.
      if (!o->nonpositional() || o->get_items_expected_max() <= 1) continue;
      o->allow_extra_args(false);
    }
  }
}

}  // namespace mapctl::cli
