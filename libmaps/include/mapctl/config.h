// mapctl/config.h - main.cf as Postfix reads it.
//
// Parameters are "name = value" lines; a line starting with whitespace
// continues the previous one, '#' lines and blank lines are skipped
// (postconf(5)). Values expand $name, ${name} and $(name), the conditional
// forms ${name?text}, ${name:text}, ${name?{text}:{text}}, and the
// comparisons Postfix's own defaults use (${{$a} <level {1} ? {x} : {y}}).
// A parameter that main.cf does not set takes Postfix 3.7's built-in
// default (postconf -d).

#ifndef MAPCTL_CONFIG_H_
#define MAPCTL_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapctl/export.h"
#include "mapctl/fold.h"
#include "mapctl/source.h"
#include "mapctl/status.h"

namespace mapctl {

class MAPCTL_EXPORT MainConfig {
 public:
  // Only Postfix 3.7's built-in defaults; config_directory = `dir`.
  explicit MainConfig(std::string config_dir = "/etc/postfix");
  ~MainConfig();
  MainConfig(const MainConfig&);
  MainConfig& operator=(const MainConfig&);
  MainConfig(MainConfig&&) noexcept;
  MainConfig& operator=(MainConfig&&) noexcept;

  // Reads CONFIG_DIR/main.cf. Errors: the file is missing or unreadable
  // ("open DIR/main.cf: No such file or directory").
  static Result<MainConfig> Load(const std::string& config_dir);

  // Parses main.cf text; `origin` names it in diagnostics. Malformed lines
  // become diagnostics (Postfix dies on them: callers treat them as errors).
  static MainConfig Parse(std::string_view text, std::string config_dir,
                          std::string_view origin);

  // The expanded value of `name`: main.cf's, a value Set() gave, or Postfix
  // 3.7's default; empty for a parameter nobody defines. Unknown $names
  // inside values expand to empty and record a warning.
  std::string Get(std::string_view name) const;
  // Expands $name forms in `text` as if it were a parameter value (for
  // master.cf -o values).
  std::string ExpandText(std::string_view text) const;
  // The raw text, before expansion; empty when not defined at all.
  std::string GetRaw(std::string_view name) const;
  // yes/no parameters ("yes", "true", "1" are true, case-insensitively).
  bool GetBool(std::string_view name) const;
  // Whether main.cf (or Set) defines `name`, as opposed to the default.
  bool IsSet(std::string_view name) const;
  // Overrides a parameter (main.cf's value or the default). The line of
  // main.cf's definition, if any, stays what Line() reports.
  void Set(std::string name, std::string value);

  // The line of the parsed text that defines `name` (the first line of
  // its last definition, as Postfix keeps the last); 0 when the text does
  // not define it.
  std::uint32_t Line(std::string_view name) const;
  // The parameters the parsed text defines, in name order.
  std::vector<std::string> DefinedNames() const;
  // The parameters the parsed text or Set() defines whose names start
  // with `prefix`, in name order: what main.cf holds after an edit that
  // Set() stands for (`--set NAME=VALUE`).
  std::vector<std::string> NamesWithPrefix(std::string_view prefix) const;

  // Malformed lines, unknown $names met while expanding (once each).
  const std::vector<Diagnostic>& diagnostics() const noexcept;
  const std::string& config_directory() const noexcept;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// The folding mode Postfix uses for fixed-key tables under this config:
// kUtf8 when smtputf8_enable is yes, else kAscii. `no_utf8` is postmap -u,
// `no_fold` postmap -f.
MAPCTL_EXPORT FoldMode KeyFoldMode(const MainConfig& config, bool no_utf8,
                                   bool no_fold);
// Whether source lines must be valid UTF-8 (smtputf8_enable and no -u).
MAPCTL_EXPORT bool ChecksUtf8(const MainConfig& config, bool no_utf8);

}  // namespace mapctl

#endif  // MAPCTL_CONFIG_H_
