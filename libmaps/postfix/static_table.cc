// postfix/static_table.cc - static:VALUE tables (util/dict_static.c): every
// key finds VALUE. "static:{ text with spaces }" (Postfix 3.7) drops the
// braces and the blanks inside them.

#include "postfix/table_types.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

class StaticTable final : public LookupTable {
 public:
  StaticTable(const TableName& name, std::string value)
      : LookupTable(std::string(name.type), std::string(name.text),
                    "static:{...}",
                    TableTraits{/*fixed_keys=*/true, /*enumerable=*/false,
                                /*has_lines=*/false, /*evaluated=*/true}),
        value_(std::move(value)) {}

  Answer Find(std::string_view) override { return FoundAnswer(value_); }

 private:
  std::string value_;
};

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenStaticTable(const TableName& name,
                                                     const TableContext&) {
  std::string_view v = name.body;
  if (BalancedBraces(v) == v.size()) v = Trim(v.substr(1, v.size() - 2));
  return std::unique_ptr<LookupTable>(new StaticTable(name, std::string(v)));
}

}  // namespace mapctl
