// postfix/table_types.h - the factories behind OpenLookupTable(), one per file
// (internal). lookup_table.cc maps each Postfix type name to one of them.

#ifndef MAPCTL_LIBMAPS_POSTFIX_TABLE_TYPES_H_
#define MAPCTL_LIBMAPS_POSTFIX_TABLE_TYPES_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mapctl/lookup_table.h"

namespace mapctl {

// A table name split for its factory: "proxy:" already removed and the
// bare-path rule applied. `text` is "type:body".
struct TableName {
  std::string_view type;
  std::string_view body;  // never empty
  std::string_view text;
};

using TableFactory = Result<std::unique_ptr<LookupTable>> (*)(
    const TableName& name, const TableContext& context);

// indexed_table.cc: lmdb, cdb, hash, btree, texthash (TableReader +
// TableLookup).
Result<std::unique_ptr<LookupTable>> OpenIndexedTable(const TableName& name,
                                                      const TableContext& context);
// inline_table.cc: inline:{...} (util/dict_inline.c).
Result<std::unique_ptr<LookupTable>> OpenInlineTable(const TableName& name,
                                                     const TableContext& context);
// static_table.cc: static:VALUE (util/dict_static.c).
Result<std::unique_ptr<LookupTable>> OpenStaticTable(const TableName& name,
                                                     const TableContext& context);
// composite_table.cc: unionmap:{...} (util/dict_union.c), pipemap:{...}
// (util/dict_pipe.c).
Result<std::unique_ptr<LookupTable>> OpenUnionTable(const TableName& name,
                                                    const TableContext& context);
Result<std::unique_ptr<LookupTable>> OpenPipeTable(const TableName& name,
                                                   const TableContext& context);
// pattern_lookup_table.cc: regexp: (util/dict_regexp.c) and pcre:
// (util/dict_pcre.c), through libc's regcomp and PCRE2 as Postfix.
Result<std::unique_ptr<LookupTable>> OpenRegexpTable(const TableName& name,
                                                     const TableContext& context);
Result<std::unique_ptr<LookupTable>> OpenPcreTable(const TableName& name,
                                                   const TableContext& context);
// sql_lookup_table.cc: sqlite:, pgsql:, mysql: through the databases' own
// client libraries (global/dict_sqlite.c, dict_pgsql.c, dict_mysql.c).
Result<std::unique_ptr<LookupTable>> OpenSqliteTable(const TableName& name,
                                                     const TableContext& context);
Result<std::unique_ptr<LookupTable>> OpenPgsqlTable(const TableName& name,
                                                    const TableContext& context);
Result<std::unique_ptr<LookupTable>> OpenMysqlTable(const TableName& name,
                                                    const TableContext& context);
// not_evaluated_table.cc: Postfix types mapctl cannot answer for.
Result<std::unique_ptr<LookupTable>> OpenNotEvaluatedTable(
    const TableName& name, const TableContext& context);

// inline_table.cc: the fields of an inline:{...} body ("{ {k = v}, k2=v2
// }") in order, unfolded. Errors name the problem as Postfix does
// ("missing '=' after attribute name", "empty table").
Result<std::vector<std::pair<std::string, std::string>>> ParseInlineTable(
    std::string_view body);

// The answer of a lookup that found `value`, which must stay valid as
// Answer::value says (until the table's next Find() or EndBatch()).
inline Answer FoundAnswer(std::string_view value) {
  Answer a;
  a.outcome = Outcome::kFound;
  a.value = value;
  return a;
}

// lookup_table.cc: what only the registry may set on a table.
struct TableRegistry {
  static void SetProxied(LookupTable& table) { table.proxied_ = true; }
};

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_TABLE_TYPES_H_
