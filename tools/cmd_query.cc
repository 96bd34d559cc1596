// cmd_query.cc - `mapctl query TABLE KEY...`: postmap -q, exact keys.
//
// Keys from stdin are looked up a block at a time: the table's shared lock
// is taken only after a block has been read and released before its
// results are written, so a reader never holds the lock while it waits for
// input or for a slow pipe.

#include <memory>

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"
#include "stdin_lines.h"

namespace mapctl::cli {
namespace {

Diagnostic PlainWarning(std::string text) {
  return Diagnostic{Severity::kWarning, DiagnosticKind::kOther, "", 0,
                    std::move(text)};
}

class Querier {
 public:
  Querier(const QueryArgs& args, std::unique_ptr<LookupTable> table,
          bool utf8)
      : args_(args), table_(std::move(table)), utf8_(utf8) {}

  // Looks every key up in one read unit and appends the output lines.
  // `bare` prints the value alone (a single key on the command line).
  Status LookUp(const std::vector<std::string_view>& keys, bool bare,
                std::string* out) {
    if (!keys.empty() && !opened_) {
      opened_ = true;
      MAPCTL_RETURN_IF_ERROR(Open());
    }
    for (std::string_view key : keys) {
      Answer a = table_->Find(key);
      if (!Concluded(a.outcome)) {
        // postmap logs the lookup's warnings (a non-UTF-8 value) before
        // it dies.
        for (const TableWarning& w : a.warnings) {
          pending_warnings_.push_back(PostmapWarning(w));
        }
        table_->EndBatch();
        return a.error;
      }
      if (a.invalid_key) {
        pending_warnings_.push_back(PlainWarning(
            table_->name() + ": non-UTF-8 key \"" + Printable(Excerpt(key)) +
            "\": malformed UTF-8 or invalid codepoint"));
      }
      for (const TableWarning& w : a.warnings) {
        pending_warnings_.push_back(PostmapWarning(w));
      }
      if (a.outcome != Outcome::kFound) continue;
      found_ = true;
      std::string_view v = a.value;
      if (v.empty()) {
        pending_warnings_.push_back(PlainWarning(
            "table " + table_->name() + ": key " + KeyText(key) +
            ": empty string result is not allowed"));
        pending_warnings_.push_back(
            PlainWarning("table " + table_->name() +
                         " should return NO RESULT in case of NOT FOUND"));
      }
      if (bare && !args_.json) {
        out->append(v);
        out->push_back('\n');
      } else {
        // postmap prints the key as the C string it looked up.
        AppendKeyValue(out, key.substr(0, key.find('\0')), v, args_.json);
      }
    }
    table_->EndBatch();
    return Status::Ok();
  }

  // Warnings met opening the table (a pattern table's bad rules), before
  // any lookup's, as postmap prints them. Errors are those Find() reports.
  // Like postmap, at the first key: no key, no table opened.
  Status Open() {
    MAPCTL_RETURN_IF_ERROR(table_->Open());
    for (const TableWarning& w : table_->warnings()) {
      pending_warnings_.push_back(PostmapWarning(w));
    }
    FlushWarnings();
    return Status::Ok();
  }

  // Warnings gathered while the unit was held, printed after it ended.
  void FlushWarnings() {
    for (Diagnostic& w : pending_warnings_) {
      // Without smtputf8, postmap shows every byte that is not ASCII as
      // '?' (a rule's text in a warning too).
      if (!utf8_) {
        for (char& c : w.message) {
          if (static_cast<unsigned char>(c) >= 0x80) c = '?';
        }
      }
      ReportDiagnostic(w);
    }
    pending_warnings_.clear();
  }

  bool found() const { return found_; }

 private:
  const QueryArgs& args_;
  std::unique_ptr<LookupTable> table_;
  bool utf8_;
  // A key as postmap's messages show it: without smtputf8, every byte
  // that is not ASCII is '?'.
  std::string KeyText(std::string_view key) const {
    std::string text = Excerpt(key);
    if (!utf8_) {
      for (char& c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
      }
    }
    return Printable(text);
  }

  std::vector<Diagnostic> pending_warnings_;
  bool opened_ = false;
  bool found_ = false;
};

// The answers of a batch go out; a lookup error is reported after the
// answers before the failing key, as postmap prints them. False: trouble.
bool WriteAnswers(const Status& lookup, const std::string& out) {
  if (!lookup.ok()) {
    (void)WriteStdout(out);
    ReportError(lookup);
    return false;
  }
  if (!WriteStdoutOrReport(out)) return false;
  return true;
}

// postmap -q -: one key per line, only the LF removed.
int QueryStdin(Querier& querier) {
  const bool read_all =
      ForEachStdinBlock([&](const std::vector<std::string_view>& keys) {
        std::string out;
        Status s = querier.LookUp(keys, false, &out);
        querier.FlushWarnings();
        return WriteAnswers(s, out);
      });
  if (!read_all) return kExitTrouble;
  return querier.found() ? kExitOk : kExitNegative;
}

}  // namespace

int RunQuery(const QueryArgs& args) {
  if (args.table == "sender") {
    ReportError(
        "query: \"sender\" here names the sender search (query sender "
        "ADDRESS); a table file named \"sender\" is written ./sender or "
        "lmdb:sender");
    return kExitTrouble;
  }
  Result<MainConfig> config = LoadPostmapConfig(args.flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  ReadSettings settings = ReadSettingsFor(args.flags, *config);
  settings.timeout = args.sql_timeout;
  Result<std::unique_ptr<LookupTable>> table =
      OpenQueryTable(args.table, *config, settings);
  if (!table) {
    ReportError(table.error());
    return kExitTrouble;
  }
  Querier querier(args, std::move(table).value(), settings.check_utf8);

  if (args.keys.size() == 1 && args.keys[0] == "-") return QueryStdin(querier);

  std::vector<std::string_view> keys(args.keys.begin(), args.keys.end());
  std::string out;
  Status s = querier.LookUp(keys, keys.size() == 1, &out);
  querier.FlushWarnings();
  if (!WriteAnswers(s, out)) return kExitTrouble;
  return querier.found() ? kExitOk : kExitNegative;
}

}  // namespace mapctl::cli
