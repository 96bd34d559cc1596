// check/check_model.cc - what `mapctl check` looks at: the tables main.cf and
// master.cf reference, the relay and credential lists, and for each file
// table its source and its built file (read in place where the file is
// mapped, copied into memory otherwise).

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "check/check_internal.h"
#include "mapctl/diff.h"
#include "mapctl/pattern_rules.h"
#include "postfix/master_cf.h"

namespace mapctl::check {
namespace {

constexpr std::string_view kSeparators = ", \t\r\n";

bool IsIndexedType(std::string_view type) {
  return type == "lmdb" || type == "cdb" || type == "hash" || type == "btree";
}

// Items of a parameter value, {...} kept whole (as maps.c splits lists).
std::vector<std::string_view> SplitItems(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (kSeparators.find(s[i]) != kSeparators.npos) {
      ++i;
      continue;
    }
    std::size_t start = i;
    int depth = 0;
    for (; i < s.size(); ++i) {
      if (s[i] == '{') ++depth;
      if (s[i] == '}' && depth > 0) --depth;
      if (depth == 0 && kSeparators.find(s[i]) != kSeparators.npos) break;
    }
    out.push_back(s.substr(start, i - start));
  }
  return out;
}

// "proxy:" removed, then the type before the first ':' (if any).
std::string_view TypeOf(std::string_view item) {
  while (item.substr(0, 6) == "proxy:") item.remove_prefix(6);
  std::size_t colon = item.find(':');
  return colon == item.npos ? std::string_view() : item.substr(0, colon);
}

void AddReferences(Model* m, std::string_view file, std::uint32_t line,
                   std::string_view parameter, std::string_view value) {
  for (std::string_view item : SplitItems(value)) {
    std::string_view type = TypeOf(item);
    if (!IsIndexedType(type) && type != "texthash") continue;
    m->references.push_back(
        {std::string(item), std::string(file), line, std::string(parameter)});
  }
}

// master.cf: the -o overrides of every service (postfix/master_cf.h, the
// one master.cf parser).
void IndexMasterCf(Model* m) {
  for (const MasterService& service :
       ParseMasterCf(m->options->master_cf_text)) {
    for (const MasterOverride& o : service.overrides) {
      AddReferences(m, m->options->master_cf_path, o.line, o.name,
                    m->config->ExpandText(o.value));
    }
  }
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

FileTable* AddFile(Model* m, const TableSpec& spec, std::string source,
                   std::string file, std::string_view parameter) {
  std::unique_ptr<FileTable>& slot = m->files[spec.ToString()];
  if (!slot) {
    slot = std::make_unique<FileTable>();
    slot->spec = spec;
    slot->source = std::move(source);
    slot->file = std::move(file);
  }
  if (std::find(slot->parameters.begin(), slot->parameters.end(), parameter) ==
      slot->parameters.end()) {
    slot->parameters.emplace_back(parameter);
  }
  return slot.get();
}

// Builds one list: from an option (sources), from main.cf mapped to
// sources (sources-only with a main.cf), or from main.cf as Postfix reads
// it.
Status BuildList(Model* m, std::string_view parameter,
                 const std::optional<std::string>& option, TableList* list) {
  list->parameter = std::string(parameter);
  const bool sources = option.has_value() || m->options->sources_only;
  TableContext mo;
  mo.timeout = m->options->table_timeout;
  mo.mode = option ? MapListMode::kSources : MapListMode::kMainCf;
  mo.default_database_type = m->config->Get("default_database_type");
  mo.fold = m->fold;
  mo.check_utf8 = m->check_utf8;
  std::string value = option ? *option : m->config->Get(parameter);
  Result<MapList> parsed = MapList::Parse(parameter, value, mo);
  if (!parsed) return parsed.error();
  list->from_options = sources;
  std::string rewritten;
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    const LookupTable& t = parsed->table(i);
    ListTable lt;
    // Pattern and SQL tables cannot be listed: they are evaluated through
    // the senders that reach them (the other maps' keys, --senders).
    lt.evaluated = t.traits().evaluated;
    if (t.proxied() && !option) lt.proxied_name = t.name();
    if (t.type() == "sqlite" || t.type() == "pgsql" || t.type() == "mysql") {
      std::string_view n = t.name();
      if (n.substr(0, 6) == "proxy:") n.remove_prefix(6);
      n.remove_prefix(n.find(':') + 1);
      // "mysql:NAME" without a '/' reads NAME_* from main.cf (no file).
      if (n.find('/') != std::string_view::npos) lt.sql_config = n;
    }
    if (IsPatternTableName(t.name())) {
      lt.pattern = t.name();
      LookupTable& pattern = parsed->table(i);
      lt.pattern_open = pattern.Open();
      if (lt.pattern_open.ok()) lt.pattern_warnings = pattern.warnings();
    }
    lt.display = t.display();
    std::string item = t.name();
    if (t.spec() != nullptr) {
      if (option && t.spec()->type != TableType::kTexthash) {
        return Status::InvalidArgument(
            std::string(parameter) + ": " + t.name() +
            " is an indexed table; give its source file (a bare path)");
      }
      Result<TableSpec> spec = *t.spec();
      if (sources && !option) {
        std::string src =
            MapSourcePath(t.name(), m->config->config_directory());
        m->report->notes.push_back(std::string(parameter) + ": " + t.name() +
                                   " read from its source " + src);
        item = "texthash:" + src;
        spec = ParseTableSpec(item, mo.default_database_type);
        if (!spec) return spec.error();
        lt.display = item;
      }
      bool texthash = spec->type == TableType::kTexthash;
      lt.file = AddFile(m, *spec, spec->path, texthash ? "" : spec->FileName(),
                        parameter);
      lt.file->credential =
          lt.file->credential || parameter == "smtp_sasl_password_maps";
    } else if (t.type() == "inline") {
      // The table's own entries: folded, the last of equal keys kept.
      std::vector<std::pair<std::string, std::string>> entries;
      MAPCTL_RETURN_IF_ERROR(parsed->table(i).ForEach(
          [&](std::string_view k, std::string_view v, std::uint32_t) {
            entries.emplace_back(k, v);
            return true;
          }));
      lt.inline_entries = LoadPairs(entries);
    }
    if (!rewritten.empty()) rewritten += ", ";
    rewritten += item;
    list->tables.push_back(std::move(lt));
  }
  list->value = sources ? rewritten : value;
  return Status::Ok();
}

// The source, parsed and digested (its diagnostics, duplicates, key lines,
// the stale comparison; as it would be built when there is no built file
// to read), then dropped.
void ParseSource(Model* m, FileTable* t) {
  if (!t->source_exists) return;
  ParseOptions po;
  po.origin = t->source;
  po.fold = m->fold;
  po.check_utf8 = m->check_utf8;
  Result<ParsedMap> parsed = ParseMapFile(t->source, po);
  if (!parsed) {
    t->parse_trouble.push_back(parsed.error());
    return;
  }
  t->parsed = true;
  t->diagnostics = parsed->diagnostics();
  std::span<const Entry> entries = parsed->entries();
  for (std::uint32_t i : t->lines.Build(entries)) {
    t->duplicates.emplace_back(entries[i].line(), entries[i].key());
  }
  if (t->built && !t->file.empty() && !m->options->sources_only &&
      m->Enabled("stale")) {
    CompareWithSource(t, *parsed);
  }
  if (!t->built && t->readable_type) {
    std::unique_ptr<EntryStream> stream =
        StreamSource(*parsed, DuplicatePolicy::kFirstWarn);
    Result<std::shared_ptr<MemoryTable>> loaded = LoadStream(*stream);
    if (loaded) t->from_source = std::move(*loaded);
  }
}

// The built file: read in place or copied (LoadBuilt).
void LoadBuiltFile(Model* m, FileTable* t) {
  if (!t->file_exists) return;
  OpenOptions oo;
  oo.fold = m->fold;
  oo.check_utf8 = m->check_utf8;
  Result<std::unique_ptr<TableReader>> reader = OpenTable(t->spec, oo);
  if (!reader && reader.error().code() == ErrorCode::kUnsupported) {
    t->readable_type = false;
  } else if (!reader) {
    t->load_trouble.push_back(reader.error());
  } else {
    Result<std::shared_ptr<MemoryTable>> loaded =
        LoadBuilt(std::move(*reader));
    if (!loaded) {
      t->load_trouble.push_back(loaded.error());
    } else {
      t->built = std::move(*loaded);
    }
  }
}

// Problems met reading the source, then the built file.
void FinishFile(Model* m, FileTable* t) {
  for (Status& s : t->parse_trouble) m->report->trouble.push_back(s);
  for (Status& s : t->load_trouble) m->report->trouble.push_back(s);
}

}  // namespace

Status BuildModel(Model* m) {
  for (const std::string& name : m->config->DefinedNames()) {
    AddReferences(m, m->options->main_cf_path, m->config->Line(name), name,
                  m->config->Get(name));
  }
  IndexMasterCf(m);
  std::sort(m->references.begin(), m->references.end(),
            [](const Model::Reference& a, const Model::Reference& b) {
              return std::tie(a.file, a.line, a.table) <
                     std::tie(b.file, b.line, b.table);
            });

  MAPCTL_RETURN_IF_ERROR(BuildList(m, "sender_dependent_relayhost_maps",
                                   m->options->relay_maps, &m->relay));
  MAPCTL_RETURN_IF_ERROR(BuildList(m, "smtp_sasl_password_maps",
                                   m->options->password_maps, &m->password));

  // Every other indexed table main.cf or master.cf names, for freshness.
  // alias tables are postalias(1) input, not postmap's: left out.
  if (!m->options->sources_only) {
    std::string default_type = m->config->Get("default_database_type");
    for (const Model::Reference& r : m->references) {
      if (r.parameter == "alias_maps" || r.parameter == "alias_database") {
        continue;
      }
      std::string_view item = r.table;
      while (item.substr(0, 6) == "proxy:") item.remove_prefix(6);
      Result<TableSpec> spec = ParseTableSpec(item, default_type);
      if (!spec) continue;
      bool texthash = spec->type == TableType::kTexthash;
      AddFile(m, *spec, spec->path, texthash ? "" : spec->FileName(),
              r.parameter);
    }
  }
  // One table at a time, the largest source first: its built file (lmdb
  // and cdb are only mapped and scanned), then its source, digested and
  // dropped before the next is read (the parser uses two threads itself).
  // So memory holds one parsed source at most, beside the built tables
  // read so far.
  std::vector<std::pair<std::uint64_t, FileTable*>> order;
  for (auto& [name, t] : m->files) {
    FileTable* f = t.get();
    struct stat st;
    f->source_exists = !f->source.empty() && stat(f->source.c_str(), &st) == 0;
    order.emplace_back(f->source_exists ? st.st_size : 0, f);
    if (!f->file.empty()) f->file_exists = Exists(f->file);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first > b.first;
  });
  for (auto& [size, f] : order) {
    LoadBuiltFile(m, f);
    ParseSource(m, f);
  }
  for (auto& [name, t] : m->files) FinishFile(m, t.get());
  m->report->checked_anything = !m->relay.tables.empty() ||
                                !m->password.tables.empty() ||
                                !m->files.empty() || !m->references.empty();
  return Status::Ok();
}

}  // namespace mapctl::check

namespace mapctl {

std::string MapSourcePath(std::string_view name, std::string_view config_dir) {
  while (name.substr(0, 6) == "proxy:") name.remove_prefix(6);
  if (std::size_t colon = name.find(':');
      colon != name.npos && name.substr(0, colon).find('/') == name.npos) {
    name.remove_prefix(colon + 1);
  }
  for (std::string_view suffix : {".lmdb", ".cdb", ".db"}) {
    if (name.size() > suffix.size() &&
        name.substr(name.size() - suffix.size()) == suffix) {
      name.remove_suffix(suffix.size());
      break;
    }
  }
  constexpr std::string_view kEtc = "/etc/postfix/";
  if (name.substr(0, kEtc.size()) == kEtc) {
    std::string dir(config_dir);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir + "/" + std::string(name.substr(kEtc.size()));
  }
  return std::string(name);
}

}  // namespace mapctl
