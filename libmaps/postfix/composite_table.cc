// postfix/composite_table.cc - unionmap:{...} and pipemap:{...}, tables made
// of other tables (util/dict_union.c, util/dict_pipe.c; Postfix 3.0+).
//
// Checked against postmap -q of Postfix 3.7: unionmap asks every member
// and joins what they find with ',' (an empty result adds nothing but the
// comma: "1," for 1 and ""); pipemap gives each result to the next member
// as its key, and finds nothing when a member finds nothing. A member
// that fails, or that mapctl cannot evaluate, decides the answer. The
// first member decides whether the composite is asked partial keys.

#include "postfix/table_types.h"
#include "util/ascii.h"

namespace mapctl {
namespace {

using Members = std::vector<std::unique_ptr<LookupTable>>;

TableTraits TraitsOf(const Members& members) {
  TableTraits t{/*fixed_keys=*/members.front()->traits().fixed_keys,
                /*enumerable=*/false, /*has_lines=*/false,
                /*evaluated=*/true};
  for (const auto& m : members) {
    t.evaluated = t.evaluated && m->traits().evaluated;
  }
  return t;
}

// "unionmap:{" + the members' display forms + "}": an inline: member shows
// no values.
std::string DisplayOf(std::string_view type, const Members& members) {
  std::string out = std::string(type) + ":{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ", ";
    out += members[i]->display();
  }
  return out + "}";
}

class CompositeTable : public LookupTable {
 public:
  CompositeTable(const TableName& name, Members members)
      : LookupTable(std::string(name.type), std::string(name.text),
                    DisplayOf(name.type, members), TraitsOf(members)),
        members_(std::move(members)) {}

  Status NotEvaluatedReason() const override {
    for (const auto& m : members_) {
      if (!m->traits().evaluated) return m->NotEvaluatedReason();
    }
    return Status::Ok();
  }
  Status Open() override {
    for (const auto& m : members_) MAPCTL_RETURN_IF_ERROR(m->Open());
    return Status::Ok();
  }
  void EndBatch() override {
    for (const auto& m : members_) m->EndBatch();
  }

 protected:
  Members members_;
  std::string value_;  // the answer's bytes
};

class UnionTable final : public CompositeTable {
 public:
  using CompositeTable::CompositeTable;

  Answer Find(std::string_view key) override {
    value_.clear();
    bool found = false;
    bool invalid_key = false;
    for (const auto& m : members_) {
      Answer a = m->Find(key);
      invalid_key = invalid_key || a.invalid_key;
      if (a.outcome == Outcome::kFound) {
        if (!value_.empty()) value_ += ',';
        value_.append(a.value);
        found = found || !value_.empty();
      } else if (a.outcome != Outcome::kNotFound) {
        return a;
      }
    }
    Answer out;
    out.invalid_key = invalid_key;
    if (found) {
      out.outcome = Outcome::kFound;
      out.value = value_;
    }
    return out;
  }
};

class PipeTable final : public CompositeTable {
 public:
  using CompositeTable::CompositeTable;

  Answer Find(std::string_view key) override {
    value_.assign(key);
    for (const auto& m : members_) {
      Answer a = m->Find(value_);
      if (a.outcome != Outcome::kFound) return a;
      query_.assign(a.value);
      value_.swap(query_);
    }
    return FoundAnswer(value_);
  }

 private:
  std::string query_;
};

// The members of "type:{type:name, ...}"; each is opened like any table.
Result<Members> OpenMembers(const TableName& name,
                            const TableContext& context) {
  auto bad = [&]() {
    return Status::ParseError("bad syntax: \"" + std::string(name.text) +
                              "\"; need \"" + std::string(name.type) +
                              ":{type:name...}\"");
  };
  const std::size_t len = BalancedBraces(name.body);
  if (len == 0 || len != name.body.size()) return bad();
  Members members;
  for (std::string_view item : SplitList(name.body.substr(1, len - 2))) {
    if (item.find(':') == std::string_view::npos) return bad();
    Result<std::unique_ptr<LookupTable>> m = OpenLookupTable(item, context);
    if (!m) return std::move(m).error();
    members.push_back(std::move(*m));
  }
  if (members.empty()) return bad();
  return members;
}

}  // namespace

Result<std::unique_ptr<LookupTable>> OpenUnionTable(
    const TableName& name, const TableContext& context) {
  Result<Members> members = OpenMembers(name, context);
  if (!members) return std::move(members).error();
  return std::unique_ptr<LookupTable>(
      new UnionTable(name, std::move(*members)));
}

Result<std::unique_ptr<LookupTable>> OpenPipeTable(
    const TableName& name, const TableContext& context) {
  Result<Members> members = OpenMembers(name, context);
  if (!members) return std::move(members).error();
  return std::unique_ptr<LookupTable>(
      new PipeTable(name, std::move(*members)));
}

}  // namespace mapctl
