// tables/convert.cc - one table type to another, through the regular build path.

#include "mapctl/convert.h"

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

namespace mapctl {

Result<std::size_t> ConvertTable(const TableSpec& from, const TableSpec& to,
                                 const BuildOptions& options) {
  if (from.FileName() == to.FileName()) {
    return Status::InvalidArgument("convert " + from.ToString() + " to " +
                                   to.ToString() + ": the same file");
  }
  MAPCTL_RETURN_IF_ERROR(CheckWritable(to.type));
  Result<std::unique_ptr<TableReader>> reader =
      OpenTable(from, OpenOptions{});
  if (!reader) return reader.error();

  // key\0value\0 per entry, in one growing buffer; Entry views are made
  // once it stops growing, so they never dangle.
  std::string bytes;
  std::vector<std::pair<std::size_t, std::pair<std::uint32_t, std::uint32_t>>>
      spans;
  ScanCursor cursor;
  while (!cursor.done) {
    Result<std::unique_ptr<ReadUnit>> unit = (*reader)->Begin();
    if (!unit) return unit.error();
    MAPCTL_RETURN_IF_ERROR((*unit)->Scan(
        cursor, 65536, [&](std::string_view key, std::string_view value) {
          key = StoredText(key);
          value = StoredText(value);
          if (key.empty() || value.empty()) return true;  // unusable in Postfix
          spans.push_back({bytes.size(),
                           {static_cast<std::uint32_t>(key.size()),
                            static_cast<std::uint32_t>(value.size())}});
          bytes.append(key);
          bytes.push_back('\0');
          bytes.append(value);
          bytes.push_back('\0');
          return true;
        }));
  }
  std::vector<Entry> entries;
  entries.reserve(spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const char* key = bytes.data() + spans[i].first;
    const auto [key_size, value_size] = spans[i].second;
    entries.emplace_back(key, key_size, key + key_size + 1, value_size,
                         static_cast<std::uint32_t>(i + 1));
  }

  SourceFileInfo source;
  struct stat st;
  if ((stat(from.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ||
      stat(from.FileName().c_str(), &st) == 0) {
    source = {S_ISREG(st.st_mode), static_cast<std::uint32_t>(st.st_mode & 07777),
              static_cast<std::uint32_t>(st.st_uid),
              static_cast<std::uint32_t>(st.st_gid)};
  }
  Result<BuildPlan> plan = PlanBuild(to, entries, options, from.ToString());
  if (!plan) return plan.error();
  MAPCTL_RETURN_IF_ERROR(WriteTable(to, entries, *plan, options, source));
  return plan->order.size();
}

}  // namespace mapctl
