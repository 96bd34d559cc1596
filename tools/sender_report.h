// sender_report.h - how `mapctl query sender` prints one resolution.

#ifndef MAPCTL_TOOLS_SENDER_REPORT_H_
#define MAPCTL_TOOLS_SENDER_REPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "mapctl/sender.h"

namespace mapctl::cli {

struct SenderReportOptions {
  bool json = false;
  bool explain = false;       // list every key tried
  bool show_secrets = false;  // passwords unmasked
  // Printed with every answer: what mapctl assumed (pinned defaults...).
  const std::vector<Warning>* assumptions = nullptr;
};

// Appends the answer for one address: a block of aligned "label value"
// lines, or one JSON object per line (docs/query-sender.md).
void AppendSenderReport(const SenderResolution& r,
                        const SenderReportOptions& options, std::string* out);

// A line that could not be resolved: {"input": I, "error": {...}} in JSON.
void AppendSenderError(std::string_view input, std::string_view code,
                       std::string_view message, bool json, std::string* out);

// Whether the answer is complete (no unsupported table, no table error).
bool SenderResolved(const SenderResolution& r);

}  // namespace mapctl::cli

#endif  // MAPCTL_TOOLS_SENDER_REPORT_H_
