// postfix/not_evaluated_table.cc - Postfix table types mapctl cannot answer
// for: pattern files (regexp, pcre, cidr), network services (tcp,
// socketmap, ldap, memcache, mysql, pgsql, ...), databases mapctl does not
// read. A lookup that reaches one is answered kNotEvaluated, never guessed.
// The pattern and SQL tables get their own files when mapctl evaluates
// them (docs/architecture.md).

#include <array>

#include "postfix/table_types.h"

namespace mapctl {
namespace {

// DICT_FLAG_PATTERN types: asked with full addresses only (dict_regexp.c,
// dict_pcre.c, dict_cidr.c, dict_tcp.c, dict_sockmap.c, dict_random.c,
// dict_fail.c). The others are asked partial keys too.
constexpr std::array<std::string_view, 7> kPatternTypes = {
    "regexp", "pcre", "cidr", "tcp", "socketmap", "randmap", "fail"};

bool IsPatternType(std::string_view type) {
  for (std::string_view t : kPatternTypes) {
    if (t == type) return true;
  }
  return false;
}

class NotEvaluatedTable final : public LookupTable {
 public:
  NotEvaluatedTable(const TableName& name, const TableContext& context)
      : LookupTable(std::string(name.type), std::string(name.text),
                    // An inline form ("pcre:{ {/x/ value} }") may hold
                    // values: its text is not shown.
                    name.body.front() == '{'
                        ? std::string(name.type) + ":{...}"
                        : std::string(name.text),
                    TableTraits{/*fixed_keys=*/!IsPatternType(name.type),
                                /*enumerable=*/false, /*has_lines=*/false,
                                /*evaluated=*/false}),
        default_type_(context.default_database_type) {}

  // As `mapctl query` has always refused these types: "unsupported table
  // type: pcre (mapctl reads lmdb, cdb, hash, btree and texthash tables)".
  Status NotEvaluatedReason() const override {
    Result<TableSpec> spec = ParseTableSpec(name(), default_type_);
    return Status::Unsupported(
        spec ? type() + " tables cannot be evaluated by mapctl"
             : spec.error().message());
  }

  Answer Find(std::string_view) override {
    Answer a;
    a.outcome = Outcome::kNotEvaluated;
    a.error = Status::Unsupported(display() + ": " + type() +
                                  " tables cannot be evaluated by mapctl");
    return a;
  }

 private:
  std::string default_type_;
};

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenNotEvaluatedTable(
    const TableName& name, const TableContext& context) {
  return std::unique_ptr<LookupTable>(new NotEvaluatedTable(name, context));
}

}  // namespace mapctl
