// cmd_query_sender.cc - `mapctl query sender ADDRESS...`: which relay and
// which SASL credentials Postfix uses for a sender, and why.
//
// Which main.cf: -c DIR or $MAIL_CONFIG (it must exist); else, without
// any --relayhost/--*-maps option, /etc/postfix/main.cf; else none, and
// Postfix 3.7's defaults are pinned with every assumption printed.

#include <algorithm>
#include <cstdlib>
#include <optional>

#include <fstream>
#include <sstream>

#include "cli_config.h"
#include "commands.h"
#include "mapctl/map_list.h"
#include "mapctl/sender.h"
#include "output.h"
#include "report.h"
#include "sender_report.h"
#include "senders_input.h"
#include "stdin_lines.h"

namespace mapctl::cli {

int RunQuerySender(const SenderArgs& args) {
  if (args.senders_file.empty() == args.addresses.empty()) {
    ReportError(args.addresses.empty()
                    ? "give an address, - for addresses on stdin, or "
                      "--senders FILE"
                    : "give addresses or --senders FILE, not both");
    return kExitTrouble;
  }
  std::optional<SenderList> senders;
  if (!args.senders_file.empty()) {
    Result<SenderList> list = ReadSendersOption(args.senders_file);
    if (!list) {
      ReportError(list.error());
      return kExitTrouble;
    }
    senders = std::move(list).value();
  }
  Result<SenderSetup> setup = LoadSenderConfig(args);
  if (!setup) {
    ReportError(setup.error());
    return kExitTrouble;
  }
  SenderResolverOptions options;
  options.relay_maps = args.relay_maps;
  options.password_maps = args.password_maps;
  options.own_address = IsOwnAddress;
  if (args.resolve) options.resolve_mx = ResolveMx;
  options.table_timeout = args.sql_timeout;
  if (!setup->pinned) {
    // master.cf beside main.cf: which program the transports run, and
    // their -o overrides. A missing master.cf is not an error here.
    std::ifstream master(setup->config.config_directory() + "/master.cf");
    std::ostringstream text;
    text << master.rdbuf();
    options.master_cf = text.str();
  }
  Result<std::unique_ptr<SenderResolver>> resolver =
      SenderResolver::Create(setup->config, options);
  for (const Diagnostic& d : setup->config.diagnostics()) ReportDiagnostic(d);
  if (!resolver) {
    ReportError(resolver.error());
    return kExitTrouble;
  }
  SenderReportOptions report;
  report.json = args.json;
  report.explain = args.explain;
  report.show_secrets = args.show_secrets;
  report.assumptions = &setup->assumptions;

  // Load warnings of the tables opened so far (a pattern table's skipped
  // rules: the relay map opened with no_regsub drops those using $n),
  // once each, as Postfix's daemon logs them when it opens the table.
  // Tables open at their first lookup, so this runs after every block.
  // The safe wording: a password map's rule may hold a password.
  std::vector<std::size_t> relay_reported, password_reported;
  auto report_load_warnings = [&] {
    for (auto [maps, reported] :
         {std::pair{&(*resolver)->relay_maps(), &relay_reported},
          std::pair{&(*resolver)->password_maps(), &password_reported}}) {
      reported->resize(maps->size(), 0);
      for (std::size_t i = 0; i < maps->size(); ++i) {
        const std::vector<TableWarning>& w = maps->table(i).warnings();
        for (std::size_t j = (*reported)[i]; j < w.size(); ++j) {
          Diagnostic d = w[j].diagnostic;
          d.severity = Severity::kWarning;
          ReportDiagnostic(d);
        }
        (*reported)[i] = w.size();
      }
    }
  };

  bool failed = false;
  bool first_block = true;
  SenderResolution resolution;
  // Senders from a list (stdin, --senders) go to the resolver in batches
  // it prefetches (SenderResolver::Prefetch): an SQL table then gets one
  // run of queries per batch on its connection instead of a query, then
  // the other table's, per key. 512 senders make 1,000-2,500 keys per
  // table: enough that the waits for the server stop counting, few enough
  // that the kept answers stay small (SqlTable::kMaxKept) and the first
  // answers of a pipe come soon. Addresses on the command line are
  // resolved one by one, each table asked only what Postfix asks.
  constexpr std::size_t kPrefetchBatch = 512;
  auto resolve_block = [&](const std::vector<std::string_view>& addresses,
                           bool prefetch) {
    std::string out;
    std::vector<std::string> errors;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      if (prefetch && i % kPrefetchBatch == 0) {
        const std::size_t n = std::min(kPrefetchBatch, addresses.size() - i);
        (*resolver)->Prefetch(Span<const std::string_view>(&addresses[i], n));
      }
      const std::string_view address = addresses[i];
      Status s = (*resolver)->Resolve(address, args.recipient, &resolution);
      if (!s.ok()) {
        failed = true;
        errors.push_back("\"" + Printable(Excerpt(address)) +
                         "\": " + s.message());
        AppendSenderError(address, "bad_address", s.message(), args.json, &out);
        continue;
      }
      if (!SenderResolved(resolution)) failed = true;
      if (!args.json && !first_block) out.push_back('\n');
      first_block = false;
      AppendSenderReport(resolution, report, &out);
    }
    (*resolver)->EndBatch();  // no table lock while we write or wait
    report_load_warnings();
    for (const std::string& e : errors) ReportError(e);
    if (!WriteStdoutOrReport(out)) return false;
    return true;
  };

  if (senders) {
    // Blocks of a few thousand: output flows and no table lock is held
    // for the whole list.
    constexpr std::size_t kBlock = 4096;
    for (std::size_t i = 0; i < senders->senders.size(); i += kBlock) {
      const std::size_t end = std::min(senders->senders.size(), i + kBlock);
      std::vector<std::string_view> block(senders->senders.begin() + i,
                                          senders->senders.begin() + end);
      if (!resolve_block(block, true)) return kExitTrouble;
    }
  } else if (args.addresses.size() == 1 && args.addresses[0] == "-") {
    if (!ForEachStdinBlock([&](const std::vector<std::string_view>& lines) {
          return resolve_block(lines, true);
        })) {
      return kExitTrouble;
    }
  } else {
    std::vector<std::string_view> addresses(args.addresses.begin(),
                                            args.addresses.end());
    if (!resolve_block(addresses, false)) return kExitTrouble;
  }
  return failed ? kExitTrouble : kExitOk;
}

}  // namespace mapctl::cli
