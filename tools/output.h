// output.h - every stdout line the CLI prints goes through here.
//
// Values are printed exactly as stored, like postmap (scripts depend on
// it). JSON output is always valid JSON, even for strict parsers: each
// byte that is not part of valid UTF-8 is written as \ufffd (U+FFFD);
// docs/postmap-compat.md says so.

#ifndef MAPCTL_TOOLS_OUTPUT_H_
#define MAPCTL_TOOLS_OUTPUT_H_

#include <string>
#include <string_view>

namespace mapctl::cli {

// Appends `text` as a JSON string literal (quotes included).
void AppendJsonString(std::string* out, std::string_view text);

// Appends `text` with C-style escapes (\t \n \r \\ \xHH) for the bytes
// that would break a tab-separated line: TAB, CR, LF, backslash, other
// control bytes and DEL.
void AppendCEscaped(std::string* out, std::string_view text);

// "key<TAB>value\n" or, with json, {"key": "value"}\n.
void AppendKeyValue(std::string* out, std::string_view key,
                    std::string_view value, bool json);

// Writes `data` to stdout unbuffered-by-stdio; false on a write error
// (errno set). Callers release table locks before calling this.
bool WriteStdout(std::string_view data);
// WriteStdout(), and on a write error the message every subcommand gives
// ("mapctl: error: write standard output: ..."); false then.
bool WriteStdoutOrReport(std::string_view data);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_OUTPUT_H_
