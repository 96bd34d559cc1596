// postfix/lookup_table.cc - the table registry: "proxy:", the bare-path rule,
// and one factory per Postfix type (util/dict_open.c's dict_open_dflt).
//
// A new type is one new file with its factory, declared in table_types.h
// and registered with one line in kTypes below (docs/architecture.md).

#include "mapctl/lookup_table.h"

#include <array>

#include "postfix/table_types.h"

namespace mapctl {
namespace {

struct Registration {
  std::string_view type;
  TableFactory open;
};

// Every type Postfix 3.7 knows (postconf -m, plus the ones a build may
// add), each with its factory.
constexpr std::array<Registration, 30> kTypes = {{
    {"lmdb", OpenIndexedTable},
    {"cdb", OpenIndexedTable},
    {"hash", OpenIndexedTable},
    {"btree", OpenIndexedTable},
    {"texthash", OpenIndexedTable},
    {"inline", OpenInlineTable},
    {"static", OpenStaticTable},
    {"unionmap", OpenUnionTable},
    {"pipemap", OpenPipeTable},
    {"regexp", OpenRegexpTable},
    {"pcre", OpenPcreTable},
    {"sqlite", OpenSqliteTable},
    {"pgsql", OpenPgsqlTable},
    {"mysql", OpenMysqlTable},
    // Not evaluated: other pattern files, network services, databases.
    {"cidr", OpenNotEvaluatedTable},
    {"tcp", OpenNotEvaluatedTable},
    {"socketmap", OpenNotEvaluatedTable},
    {"ldap", OpenNotEvaluatedTable},
    {"memcache", OpenNotEvaluatedTable},
    {"mongodb", OpenNotEvaluatedTable},
    {"nis", OpenNotEvaluatedTable},
    {"nisplus", OpenNotEvaluatedTable},
    {"netinfo", OpenNotEvaluatedTable},
    {"dbm", OpenNotEvaluatedTable},
    {"sdbm", OpenNotEvaluatedTable},
    {"environ", OpenNotEvaluatedTable},
    {"fail", OpenNotEvaluatedTable},
    {"internal", OpenNotEvaluatedTable},
    {"randmap", OpenNotEvaluatedTable},
    {"unix", OpenNotEvaluatedTable},
}};

// Not a Postfix type, but accepted (and not evaluated) since mapctl's first
// table lists; kept so that no list that parsed before fails now.
constexpr std::string_view kLegacyUnion = "union";

}  // namespace

std::string_view OutcomeName(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kFound:
      return "found";
    case Outcome::kNotFound:
      return "not found";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kDunno:
      return "dunno";
    case Outcome::kError:
      return "error";
    case Outcome::kNotEvaluated:
      return "unsupported";
  }
  return "unknown";
}

LookupTable::LookupTable(std::string type, std::string name,
                         std::string display, TableTraits traits)
    : type_(std::move(type)),
      name_(std::move(name)),
      display_(std::move(display)),
      traits_(traits) {}

LookupTable::~LookupTable() = default;

const std::string& LookupTable::name() const noexcept { return name_; }
const std::string& LookupTable::display() const noexcept { return display_; }
const std::string& LookupTable::type() const noexcept { return type_; }
bool LookupTable::proxied() const noexcept { return proxied_; }
const TableTraits& LookupTable::traits() const noexcept { return traits_; }
const TableSpec* LookupTable::spec() const noexcept { return nullptr; }
const std::vector<TableWarning>& LookupTable::warnings() const noexcept {
  static const std::vector<TableWarning> kNone;
  return kNone;
}
Status LookupTable::NotEvaluatedReason() const { return Status::Ok(); }
Status LookupTable::Open() { return Status::Ok(); }
void LookupTable::EndBatch() {}
void LookupTable::Prefetch(Span<const std::string_view>) {}

Status LookupTable::ForEach(const Visitor&) {
  return Status::Unsupported(display_ + ": " + type_ +
                             " tables cannot be listed");
}

TableContext ContextForParameter(const TableContext& base,
                                 std::string_view parameter) {
  TableContext context = base;
  context.no_regsub = parameter == "sender_dependent_relayhost_maps" ||
                      parameter == "transport_maps";
  return context;
}

Result<std::unique_ptr<LookupTable>> OpenLookupTable(
    std::string_view name, const TableContext& context) {
  // proxymap(8) asks the same table on the client's behalf.
  bool proxied = false;
  while (name.substr(0, 6) == "proxy:") {
    name.remove_prefix(6);
    proxied = true;
  }
  std::string text;
  if (name.find(':') == std::string_view::npos) {
    text = (context.mode == MapListMode::kSources
                ? std::string("texthash")
                : context.default_database_type) +
           ":" + std::string(name);
  } else {
    text = std::string(name);
  }
  const std::size_t colon = text.find(':');
  TableName parts{std::string_view(text).substr(0, colon),
                  std::string_view(text).substr(colon + 1), text};
  if (parts.body.empty()) {
    return Status::InvalidArgument("table name is empty: \"" + text + "\"");
  }
  TableFactory open = nullptr;
  for (const Registration& r : kTypes) {
    if (r.type == parts.type) open = r.open;
  }
  if (open == nullptr && parts.type == kLegacyUnion) {
    open = OpenNotEvaluatedTable;
  }
  if (open == nullptr) {
    // ParseTableSpec words it: "unsupported dictionary type: X (...)".
    Result<TableSpec> spec = ParseTableSpec(text, "");
    return Status::InvalidArgument(
        spec ? "unsupported dictionary type: " + std::string(parts.type)
             : spec.error().message());
  }
  Result<std::unique_ptr<LookupTable>> table = open(parts, context);
  if (table && proxied) TableRegistry::SetProxied(**table);
  return table;
}

}  // namespace mapctl
