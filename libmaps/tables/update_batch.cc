// tables/update_batch.cc - the rules of a postmap -i / -d batch
// (update_batch.h).

#include "tables/update_batch.h"
#include "tables/stored_form.h"

#include <utility>

namespace mapctl {

std::uint64_t BatchBytes(std::span<const Entry> entries,
                         std::size_t per_entry) {
  std::uint64_t bytes = 0;
  for (const Entry& e : entries) {
    bytes += e.key().size() + e.value().size() + per_entry;
  }
  return bytes;
}

Result<UpdateReport> PutEntries(std::span<const Entry> entries,
                                const UpdateOptions& options,
                                std::string_view origin, const PutEntry& put) {
  const std::size_t nul = options.nul == NulMode::kWithout ? 0 : 1;
  UpdateReport report;
  StoredForm key, value;
  for (const Entry& e : entries) {
    Result<bool> stored =
        put(e, key.Of(e.key(), nul), value.Of(e.value(), nul));
    if (!stored) return std::move(stored).error();
    if (*stored) {
      ++report.written;
    } else if (options.duplicates == DuplicatePolicy::kFirstWarn) {
      report.diagnostics.push_back(
          {Severity::kWarning, DiagnosticKind::kDuplicate, std::string(origin),
           e.line(), "duplicate entry: \"" + Excerpt(e.key()) + "\""});
    }
  }
  return report;
}

Result<std::size_t> DeleteKeys(std::span<const std::string> keys, NulMode nul,
                               std::size_t max_key_size, const DeleteKey& del) {
  bool with_nul = nul != NulMode::kWithout;
  bool without_nul = nul != NulMode::kWith;
  std::size_t deleted = 0;
  std::string buf;
  for (const std::string& key : keys) {
    if (key.empty()) continue;
    if (with_nul && key.size() + 1 <= max_key_size) {
      buf.assign(key);
      buf.push_back('\0');
      Result<bool> hit = del(buf);
      if (!hit) return std::move(hit).error();
      if (*hit) {
        ++deleted;
        without_nul = false;
        continue;
      }
    }
    if (without_nul && key.size() <= max_key_size) {
      Result<bool> hit = del(key);
      if (!hit) return std::move(hit).error();
      if (*hit) {
        ++deleted;
        with_nul = false;
      }
    }
  }
  return deleted;
}

}  // namespace mapctl
