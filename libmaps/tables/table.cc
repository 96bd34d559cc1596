// tables/table.cc - table names, dispatch to the backends, Postfix's dict layer.

#include "mapctl/table.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>

#include "tables/table_backends.h"

namespace mapctl {
namespace {

struct TypeName {
  std::string_view name;
  TableType type;
};
constexpr std::array<TypeName, 5> kReadable = {{
    {"lmdb", TableType::kLmdb},
    {"cdb", TableType::kCdb},
    {"hash", TableType::kHash},
    {"btree", TableType::kBtree},
    {"texthash", TableType::kTexthash},
}};

// Postfix table types mapctl knows by name but cannot read: their lookups
// are patterns, networks or services rather than a file of keys.
constexpr std::array<std::string_view, 24> kOtherPostfixTypes = {
    "cidr",    "dbm",      "environ",   "fail",    "inline",   "internal",
    "ldap",    "memcache", "mongodb",   "mysql",   "netinfo",  "nis",
    "nisplus", "pcre",     "pgsql",     "pipemap", "proxy",    "randmap",
    "regexp",  "sdbm",     "socketmap", "sqlite",  "static",   "tcp",
};

constexpr std::string_view kWhatWeRead =
    " (mapctl reads lmdb, cdb, hash, btree and texthash tables)";

}  // namespace

std::string_view TableTypeName(TableType type) noexcept {
  for (const TypeName& t : kReadable) {
    if (t.type == type) return t.name;
  }
  return "unknown";
}

std::string TableSpec::FileName() const {
  switch (type) {
    case TableType::kLmdb:
      return path + ".lmdb";
    case TableType::kCdb:
      return path + ".cdb";
    case TableType::kHash:
    case TableType::kBtree:
      return path + ".db";
    case TableType::kTexthash:
      return path;
  }
  return path;
}

std::string TableSpec::ToString() const {
  return std::string(TableTypeName(type)) + ":" + path;
}

Result<TableSpec> ParseTableSpec(std::string_view text,
                                 std::string_view default_type) {
  std::string_view type_name = default_type;
  std::string_view path = text;
  if (std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    type_name = text.substr(0, colon);
    path = text.substr(colon + 1);
  }
  if (path.empty()) {
    return Status::InvalidArgument("table name is empty: \"" +
                                   std::string(text) + "\"");
  }
  for (const TypeName& t : kReadable) {
    if (t.name == type_name) return TableSpec{t.type, std::string(path)};
  }
  for (std::string_view other : kOtherPostfixTypes) {
    if (other == type_name) {
      return Status::Unsupported(
          "unsupported table type: " + std::string(type_name) +
          std::string(kWhatWeRead));
    }
  }
  return Status::InvalidArgument(
      "unsupported dictionary type: " + std::string(type_name) +
      std::string(kWhatWeRead));
}

Status CheckWritable(TableType type) {
  switch (type) {
    case TableType::kLmdb:
    case TableType::kCdb:
      return Status::Ok();
    case TableType::kHash:
    case TableType::kBtree:
      return kHaveBdb ? Status::Ok() : BdbUnavailable(type);
    case TableType::kTexthash:
      break;
  }
  return Status::Unsupported(
      "unsupported dictionary type: texthash does not support bulk-mode "
      "creation");
}

Status WriteTable(const TableSpec& spec, Span<const Entry> entries,
                  const BuildPlan& plan, const BuildOptions& options,
                  const SourceFileInfo& source) {
  MAPCTL_RETURN_IF_ERROR(CheckWritable(spec.type));
  switch (spec.type) {
    case TableType::kCdb:
      return WriteCdbTable(spec, entries, plan, options, source);
    case TableType::kHash:
    case TableType::kBtree:
      return WriteBdbTable(spec, entries, plan, options, source);
    default:
      return WriteLmdbTable(spec, entries, plan, options, source);
  }
}

bool CanBuildFromSource(TableType type) noexcept {
  return type == TableType::kCdb;
}

Status BuildTableFromSource(const TableSpec& spec,
                            const std::string& source_path,
                            const ParseOptions& parse,
                            const BuildOptions& options,
                            const SourceFileInfo& source, bool strict,
                            SourceBuildResult* result) {
  if (!CanBuildFromSource(spec.type)) {
    return Status::Unsupported("cannot build " + spec.ToString() +
                               " while reading its source");
  }
  return BuildCdbFromSource(spec, source_path, parse, options, source, strict,
                            result);
}

Status DamagedTable(const std::string& name,
                    const std::vector<std::string>& problems) {
  std::string msg = name + ": damaged table, not read: " + problems.front();
  if (problems.size() > 1) {
    msg += " (and " + std::to_string(problems.size() - 1) +
           " more problems; mapctl verify lists them)";
  }
  return Status::Corruption(std::move(msg));
}

Result<std::uint64_t> TableFileSize(int fd, const std::string& name,
                                    std::string_view kind) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::IoError("stat " + name, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("open database " + name +
                                   ": not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) {
    return Status::Corruption(name + ": empty file (zero length), not " +
                              std::string(kind) + " table");
  }
  return size;
}

ReadUnit::~ReadUnit() = default;
TableReader::~TableReader() = default;

Result<std::unique_ptr<TableReader>> OpenTable(const TableSpec& spec,
                                               const OpenOptions& options) {
  switch (spec.type) {
    case TableType::kLmdb:
      return OpenLmdbTable(spec, options.verify);
    case TableType::kCdb:
      // Read by mapctl's own bounds-checked code: nothing to guard.
      return OpenCdbTable(spec);
    case TableType::kHash:
    case TableType::kBtree:
      return OpenBdbTable(spec, options.verify);
    case TableType::kTexthash:
      return OpenTexthashTable(spec, options);
  }
  return Status::InvalidArgument("unknown table type");
}

Status VerifyTable(const TableSpec& spec, std::vector<std::string>* problems) {
  switch (spec.type) {
    case TableType::kLmdb:
      return VerifyLmdbTable(spec, problems);
    case TableType::kCdb:
      return VerifyCdbTable(spec, problems);
    case TableType::kHash:
    case TableType::kBtree:
      return VerifyBdbTable(spec, problems);
    case TableType::kTexthash:
      break;
  }
  return Status::Unsupported("cannot verify " + spec.ToString() +
                             ": texthash is a source file, not an indexed "
                             "table");
}

std::string_view StoredText(std::string_view raw) noexcept {
  std::size_t nul = raw.find('\0');
  return nul == std::string_view::npos ? raw : raw.substr(0, nul);
}

TableLookup::TableLookup(FoldMode fold, NulMode nul, bool check_utf8) noexcept
    : fold_(fold),
      check_utf8_(check_utf8),
      try_with_nul_(nul != NulMode::kWithout),
      try_without_nul_(nul != NulMode::kWith) {}

Result<std::optional<std::string_view>> TableLookup::Find(
    ReadUnit& unit, std::string_view key) {
  invalid_key_ = false;
  // Postfix's maps layer never asks a table for an empty key.
  if (key.empty()) return std::optional<std::string_view>();
  if ((check_utf8_ || fold_ == FoldMode::kUtf8) && !IsAscii(key) &&
      !IsValidUtf8(key)) {
    invalid_key_ = true;
    return std::optional<std::string_view>();
  }
  if (Status s = FoldKey(key, fold_, &folded_); !s.ok()) {
    invalid_key_ = true;
    return std::optional<std::string_view>();
  }
  // dict_lmdb/dict_db/dict_cdb: try "key\0" first, then "key"; the first
  // form that hits is the only one tried from then on (util/dict_*.c).
  if (try_with_nul_) {
    folded_.push_back('\0');
    Result<std::optional<std::string_view>> r = unit.GetRaw(folded_);
    folded_.pop_back();
    if (!r) return r;
    if (r->has_value()) {
      try_without_nul_ = false;
      return std::optional<std::string_view>(StoredText(**r));
    }
  }
  if (try_without_nul_) {
    Result<std::optional<std::string_view>> r = unit.GetRaw(folded_);
    if (!r) return r;
    if (r->has_value()) {
      try_with_nul_ = false;
      return std::optional<std::string_view>(StoredText(**r));
    }
  }
  return std::optional<std::string_view>();
}

}  // namespace mapctl
