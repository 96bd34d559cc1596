// postfix/cf_params.h - "name = value" parameter files, as Postfix reads a
// table's .cf file (internal).
//
// The sqlite_table(5), pgsql_table(5) and mysql_table(5) configuration is
// read by Postfix's cfg_parser over dict_load_file (util/dict.c,
// util/readlline.c). Observed with the 3.7.11 binary:
//  - a logical line starts with non-whitespace; a line that starts with
//    whitespace continues it, appended without its newline (the leading
//    whitespace stays);
//  - blank lines, whitespace-only lines and lines whose first non-blank
//    byte is '#' are skipped, also inside a continuation ("#" later in a
//    line is not a comment);
//  - whitespace before the first logical line: a warning, the line skipped;
//  - "name = value": the name ends at whitespace or '=', the value is
//    trimmed; no '=' or no name is fatal with the line number;
//  - a name given twice: the later value wins, with a warning at the later
//    line (Postfix quotes the old value there; mapctl never does);
//  - no $name expansion; names are case-sensitive.

#ifndef MAPCTL_LIBMAPS_POSTFIX_CF_PARAMS_H_
#define MAPCTL_LIBMAPS_POSTFIX_CF_PARAMS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/source.h"
#include "mapctl/status.h"

namespace mapctl {

struct CfValue {
  std::string value;
  std::uint32_t line = 0;  // first line of its logical line; 0: not a file
};

class CfParams {
 public:
  explicit CfParams(std::string origin) : origin_(std::move(origin)) {}

  // Reads and parses the file at `path` (named `path` in messages).
  // Errors: the file cannot be read ("open PATH: No such file or
  // directory"), or a line Postfix dies on ("PATH:LINE: missing '=' after
  // parameter name"; the line itself is never quoted: it may hold the
  // password).
  static Result<CfParams> ReadFile(const std::string& path);
  // The same rules over text already read; `origin` names it.
  static Result<CfParams> Parse(std::string_view text, std::string origin);

  // The parameter's value, or nullptr when the file does not set it.
  const CfValue* Find(std::string_view name) const;
  // Sets a parameter as if read from `line` (for the main.cf form of a
  // table, where the caller reads NAME_param from main.cf).
  void Set(std::string name, std::string value, std::uint32_t line);

  // The file as named in messages.
  const std::string& origin() const noexcept { return origin_; }
  // `name` as messages write it: main.cf's NAME_param for the main.cf form
  // of a table (SetNamePrefix("NAME_")), as Postfix names it there.
  std::string Named(std::string_view name) const {
    return name_prefix_ + std::string(name);
  }
  void SetNamePrefix(std::string prefix) { name_prefix_ = std::move(prefix); }
  // Warnings met while reading (leading whitespace, overridden entries).
  const std::vector<Diagnostic>& diagnostics() const noexcept {
    return diagnostics_;
  }
  // Parameter names in file order of their last setting: for -v echoes.
  std::vector<std::string> Names() const;

 private:
  Status AddLine(std::string_view logical, std::uint32_t line);

  std::string origin_;
  std::string name_prefix_;
  std::map<std::string, CfValue, std::less<>> values_;
  std::vector<Diagnostic> diagnostics_;
};

// "origin:line: " or "origin: " when `line` is 0: the prefix of every
// message about a .cf file.
std::string CfWhere(std::string_view origin, std::uint32_t line);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_CF_PARAMS_H_
