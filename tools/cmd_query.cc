// cmd_query.cc - `mapctl query TABLE KEY...`: postmap -q, exact keys.
//
// Keys from stdin are looked up a block at a time: the table's shared lock
// is taken only after a block has been read and released before its
// results are written, so a reader never holds the lock while it waits for
// input or for a slow pipe.

#include <unistd.h>

#include <cerrno>
#include <memory>

#include "cli_config.h"
#include "commands.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

class Querier {
 public:
  Querier(const QueryArgs& args, std::unique_ptr<LookupTable> table)
      : args_(args), table_(std::move(table)) {}

  // Looks every key up in one read unit and appends the output lines.
  // `bare` prints the value alone (a single key on the command line).
  Status LookUp(const std::vector<std::string_view>& keys, bool bare,
                std::string* out) {
    for (std::string_view key : keys) {
      Answer a = table_->Find(key);
      if (!Concluded(a.outcome)) {
        table_->EndBatch();
        return a.error;
      }
      if (a.invalid_key) {
        pending_warnings_.push_back(table_->name() + ": non-UTF-8 key \"" +
                                    Printable(Excerpt(key)) +
                                    "\": malformed UTF-8 or invalid codepoint");
      }
      for (const TableWarning& w : a.warnings) {
        pending_warnings_.push_back(w.postfix_text);
      }
      if (a.outcome != Outcome::kFound) continue;
      found_ = true;
      std::string_view v = a.value;
      if (v.empty()) {
        pending_warnings_.push_back("table " + table_->name() + ": key " +
                                    Printable(Excerpt(key)) +
                                    ": empty string result is not allowed");
      }
      if (bare && !args_.json) {
        out->append(v);
        out->push_back('\n');
      } else {
        AppendKeyValue(out, key, v, args_.json);
      }
    }
    table_->EndBatch();
    return Status::Ok();
  }

  // Warnings gathered while the unit was held, printed after it ended.
  void FlushWarnings() {
    for (const std::string& w : pending_warnings_) ReportWarning(w);
    pending_warnings_.clear();
  }

  bool found() const { return found_; }

 private:
  const QueryArgs& args_;
  std::unique_ptr<LookupTable> table_;
  std::vector<std::string> pending_warnings_;
  bool found_ = false;
};

// postmap -q -: one key per line, only the LF removed.
int QueryStdin(Querier& querier) {
  std::string pending;
  std::vector<char> buf(1 << 16);
  bool eof = false;
  while (!eof) {
    ssize_t n = read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ReportError(Status::IoError("read standard input", errno));
      return kExitTrouble;
    }
    if (n == 0) {
      eof = true;
    } else {
      pending.append(buf.data(), static_cast<std::size_t>(n));
    }
    std::vector<std::string_view> keys;
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      keys.push_back(std::string_view(pending).substr(start, nl - start));
    }
    if (eof && start < pending.size()) {
      keys.push_back(std::string_view(pending).substr(start));
      start = pending.size();
    }
    if (!keys.empty()) {
      std::string out;
      Status s = querier.LookUp(keys, false, &out);
      querier.FlushWarnings();
      if (!s.ok()) {
        ReportError(s);
        return kExitTrouble;
      }
      if (!WriteStdout(out)) {
        ReportError(Status::IoError("write standard output", errno));
        return kExitTrouble;
      }
    }
    pending.erase(0, start);
  }
  return querier.found() ? kExitOk : kExitNegative;
}

}  // namespace

int RunQuery(const QueryArgs& args) {
  if (args.table == "sender") {
    ReportError(
        "query sender: sender lookups are not in this build yet; a table "
        "file named \"sender\" is written ./sender or lmdb:sender");
    return kExitTrouble;
  }
  Result<MainConfig> config = LoadPostmapConfig(args.flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  Result<std::unique_ptr<LookupTable>> table =
      OpenQueryTable(args.table, *config, ReadSettingsFor(args.flags, *config));
  if (!table) {
    ReportError(table.error());
    return kExitTrouble;
  }
  Querier querier(args, std::move(table).value());

  if (args.keys.size() == 1 && args.keys[0] == "-") return QueryStdin(querier);

  std::vector<std::string_view> keys(args.keys.begin(), args.keys.end());
  std::string out;
  Status s = querier.LookUp(keys, keys.size() == 1, &out);
  querier.FlushWarnings();
  if (!s.ok()) {
    ReportError(s);
    return kExitTrouble;
  }
  if (!WriteStdout(out)) {
    ReportError(Status::IoError("write standard output", errno));
    return kExitTrouble;
  }
  return querier.found() ? kExitOk : kExitNegative;
}

}  // namespace mapctl::cli
