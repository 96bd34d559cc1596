// cmd_convert.cc - `mapctl convert FROM TO`: migrate a table to another
// type, e.g. `mapctl convert hash:/etc/postfix/sasl_passwd lmdb:`.

#include "cli_config.h"
#include "commands.h"
#include "mapctl/convert.h"
#include "report.h"

namespace mapctl::cli {

int RunConvert(const ConvertArgs& args) {
  Result<MainConfig> config = LoadPostmapConfig(args.flags);
  if (!config) {
    ReportError(config.error());
    return kExitTrouble;
  }
  Result<TableSpec> from = TableArgument(args.from, *config, true);
  if (!from) {
    ReportError(from.error());
    return kExitTrouble;
  }
  // "lmdb:" alone: the same path, the new type.
  std::string to_text = args.to;
  if (!to_text.empty() && to_text.back() == ':') to_text += from->path;
  Result<TableSpec> to = TableArgument(to_text, *config, false);
  if (!to) {
    ReportError(to.error());
    return kExitTrouble;
  }
  BuildOptions options;
  options.nul = args.flags.nul;
  options.duplicates = DuplicatePolicy::kFirst;  // a table has none
  options.copy_source_mode = !args.plain_mode;
  options.take_source_owner = !args.keep_root;
  Result<std::size_t> n = ConvertTable(*from, *to, options);
  if (!n) {
    ReportError(n.error());
    return kExitTrouble;
  }
  if (args.flags.verbose > 0) {
    ReportInfo(from->ToString() + " -> " + to->ToString() + ": " +
               std::to_string(*n) + " entries");
  }
  return kExitOk;
}

}  // namespace mapctl::cli
