// cmd_diff.cc - `mapctl diff OLD NEW`: what changed between two maps.
//
// A bare path is a source, compared as postmap would build it; TYPE:PATH
// is a built table. Whether credential values are masked is the library's
// decision (MaskValues in secrets.h): unless --show-secrets, when either
// side is a credential table, both are (fail closed).

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli_config.h"
#include "commands.h"
#include "diff_rules.h"
#include "mapctl/diff.h"
#include "mapctl/pattern_rules.h"
#include "mapctl/secrets.h"
#include "output.h"
#include "report.h"

namespace mapctl::cli {
namespace {

// One side of the diff with whatever keeps its entries alive.
struct Side {
  std::string argument;
  std::string path;  // the source, or the table's path without suffix
  std::optional<ParsedMap> parsed;
  std::unique_ptr<TableReader> reader;
  std::unique_ptr<EntryStream> stream;
  // A regexp: or pcre: table: its rules (the stream gives their results).
  std::unique_ptr<std::vector<PatternRuleText>> rules;
};

Result<Side> OpenSide(const DiffArgs& args, const MainConfig& config,
                      const std::string& argument) {
  Side side;
  side.argument = argument;
  FoldMode fold = KeyFoldMode(config, args.flags.no_utf8, args.flags.no_fold);
  bool check_utf8 = ChecksUtf8(config, args.flags.no_utf8);
  if (IsPatternTableName(argument)) {
    Result<std::vector<PatternRuleText>> rules = ReadPatternRules(argument);
    if (!rules) return rules.error();
    side.rules = std::make_unique<std::vector<PatternRuleText>>(
        std::move(rules).value());
    side.stream = StreamPatternResults(*side.rules);
    return side;
  }
  if (argument.find(':') == std::string::npos) {
    ParseOptions parse;
    parse.origin = argument;
    parse.fold = fold;
    parse.check_utf8 = check_utf8;
    Result<ParsedMap> parsed = ParseMapFile(argument, parse);
    if (!parsed) return parsed.error();
    ReportDiagnostics(parsed->diagnostics(), false);
    side.path = argument;
    side.parsed.emplace(std::move(parsed).value());
    side.stream = StreamSource(*side.parsed, args.duplicates);
    return side;
  }
  Result<TableSpec> spec = TableArgument(argument, config, true);
  if (!spec) return spec.error();
  OpenOptions open;
  open.fold = fold;
  open.check_utf8 = check_utf8;
  Result<std::unique_ptr<TableReader>> reader = OpenTable(*spec, open);
  if (!reader) return reader.error();
  side.path = spec->path;
  side.reader = std::move(reader).value();
  side.stream = StreamTable(*side.reader);
  return side;
}

// HoldsCredentialValues() of one side, read once more, in chunks.
Result<bool> ValuesLookLikeCredentials(const DiffArgs& args,
                                       const MainConfig& config,
                                       const std::string& argument) {
  Result<Side> side = OpenSide(args, config, argument);
  if (!side) return side.error();
  return HoldsCredentialValues(*side->stream);
}

std::string ReadMasterCf(const MainConfig& config) {
  std::ifstream in(config.config_directory() + "/master.cf");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int RunDiff(const DiffArgs& args) {
  Result<OptionalConfig> loaded = LoadOptionalConfig(args.flags);
  if (!loaded) {
    ReportError(loaded.error());
    return kExitTrouble;
  }
  const MainConfig& config = loaded->config;
  if (loaded->pinned) ReportPinnedDefaults(config);

  // The library decides (MaskValues); a side nothing names is read once
  // more to see whether its values look like credentials.
  const SecretsRequest request = args.show_secrets ? SecretsRequest::kShow
                                 : args.secrets    ? SecretsRequest::kMask
                                                   : SecretsRequest::kAuto;
  const std::string sides[] = {args.old_side, args.new_side};
  Result<bool> masked = MaskValues(
      request, CredentialTables(config, ReadMasterCf(config)), sides,
      [&](const std::string& side) {
        return ValuesLookLikeCredentials(args, config, side);
      });
  if (!masked) {
    ReportError(masked.error());
    return kExitTrouble;
  }
  const bool mask = *masked;

  Result<Side> old_side = OpenSide(args, config, args.old_side);
  if (!old_side) {
    ReportError(old_side.error());
    return kExitTrouble;
  }
  Result<Side> new_side = OpenSide(args, config, args.new_side);
  if (!new_side) {
    ReportError(new_side.error());
    return kExitTrouble;
  }

  if (old_side->rules || new_side->rules) {
    return DiffRules(args, old_side->rules.get(), new_side->rules.get(), mask);
  }

  std::string out;
  bool write_failed = false;
  auto flush = [&](bool force) {
    if (write_failed || (!force && out.size() < (1 << 16))) return;
    if (!WriteStdout(out)) write_failed = true;
    out.clear();
  };
  Result<DiffCounts> counts = DiffStreams(
      *old_side->stream, *new_side->stream,
      [&](DiffOp op, std::string_view key, std::string_view old_value,
          std::string_view new_value) {
        std::string old_shown =
            mask ? MaskCredential(old_value) : std::string(old_value);
        std::string new_shown =
            mask ? MaskCredential(new_value) : std::string(new_value);
        // A value without ':' masks whole ("****"): see MaskCredential().
        const bool old_malformed =
            mask && op != DiffOp::kAdded && IsMalformedCredential(old_value);
        const bool new_malformed =
            mask && op != DiffOp::kRemoved && IsMalformedCredential(new_value);
        const bool same_shown =
            mask && op == DiffOp::kChanged && old_shown == new_shown;
        const bool password_changed = same_shown && !old_malformed;
        const bool value_changed = same_shown && old_malformed;
        const char* sign = op == DiffOp::kAdded     ? "+"
                           : op == DiffOp::kRemoved ? "-"
                                                    : "~";
        if (args.json) {
          out += "{\"op\": \"";
          out += sign;
          out += "\", \"key\": ";
          AppendJsonString(&out, key);
          if (op == DiffOp::kChanged) {
            out += ", \"old\": ";
            AppendJsonString(&out, old_shown);
            out += ", \"new\": ";
            AppendJsonString(&out, new_shown);
            if (password_changed) out += ", \"password_changed\": true";
            if (value_changed) out += ", \"value_changed\": true";
            if (old_malformed) out += ", \"old_malformed\": true";
            if (new_malformed) out += ", \"new_malformed\": true";
          } else {
            out += ", \"value\": ";
            AppendJsonString(&out, op == DiffOp::kAdded ? new_shown : old_shown);
            if (old_malformed || new_malformed) out += ", \"malformed\": true";
          }
          out += "}\n";
        } else {
          out += sign;
          out += '\t';
          AppendCEscaped(&out, key);
          out += '\t';
          if (op != DiffOp::kAdded) AppendCEscaped(&out, old_shown);
          if (op == DiffOp::kChanged) out += '\t';
          if (op != DiffOp::kRemoved) AppendCEscaped(&out, new_shown);
          if (password_changed) out += " (password changed)";
          if (value_changed) out += " (value changed)";
          if (old_malformed || new_malformed) {
            out += " (";
            if (op == DiffOp::kChanged) {
              out += old_malformed && new_malformed ? "old and new "
                     : old_malformed                ? "old "
                                                    : "new ";
            }
            out += kMalformedCredentialNote;
            out += ')';
          }
          out += '\n';
        }
        flush(false);
        return !write_failed;
      });
  flush(true);
  if (!counts) {
    ReportError(counts.error());
    return kExitTrouble;
  }
  if (write_failed) {
    ReportError(Status::IoError("write standard output", errno));
    return kExitTrouble;
  }
  ReportInfo("diff: " + std::to_string(counts->added) + " added, " +
             std::to_string(counts->removed) + " removed, " +
             std::to_string(counts->changed) + " changed, " +
             std::to_string(counts->same) + " unchanged" +
             (mask ? " (values masked: credential table)" : ""));
  return counts->identical() ? kExitOk : kExitNegative;
}

}  // namespace mapctl::cli
