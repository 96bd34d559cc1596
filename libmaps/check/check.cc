// check/check.cc - RunChecks(): builds the model, runs each group of checks and
// orders the findings.

#include "mapctl/check.h"

#include <algorithm>
#include <thread>
#include <tuple>

#include "check/check_internal.h"

namespace mapctl {

const std::vector<std::string_view>& CheckNames() {
  static const std::vector<std::string_view> kNames = {
      "relay-credentials",
      "default-relay-credentials",
      "null-sender",
      "bad-value",
      "stale",
      "missing-table",
      "not-checked",
      "world-readable",
      "domain-fallthrough",
      "key-format",
      "syntax",
      "auth-disabled",
      "plaintext-auth",
      "group-readable",
      "berkeley-db",
      "scope",
      "not-exercised",
      "proxy-read-maps",
  };
  return kNames;
}

Result<CheckReport> RunChecks(const MainConfig& config,
                              const CheckOptions& options) {
  CheckReport report;
  check::Model m;
  m.config = &config;
  m.options = &options;
  m.report = &report;
  m.fold = KeyFoldMode(config, false, false);
  m.check_utf8 = ChecksUtf8(config, false);
  m.threads = options.threads;
  if (m.threads == 0) {
    m.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  }
  MAPCTL_RETURN_IF_ERROR(check::BuildModel(&m));
  MAPCTL_RETURN_IF_ERROR(check::CheckConsistency(&m));
  check::CheckValues(&m);
  check::CheckFiles(&m);
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::tie(a.file, a.line) < std::tie(b.file, b.line);
                   });
  return report;
}

}  // namespace mapctl
