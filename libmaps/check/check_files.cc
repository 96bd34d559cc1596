// check/check_files.cc - the deployed files: built tables that do not match
// their sources, tables that do not exist, credential files others can
// read, and Berkeley DB tables on their way out (spec §4.6, §7.2, §8.7,
// §8.14).

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include "check/check_internal.h"
#include "mapctl/diff.h"
#include "mapctl/edit_distance.h"
#include "mapctl/relay.h"
#include "postfix/cf_params.h"

namespace mapctl::check {
namespace {

// Where a finding about a whole table points: the main.cf line naming it,
// else the source.
std::pair<std::string, std::uint32_t> TablePlace(const Model& m,
                                                 const FileTable& t) {
  for (const std::string& p : t.parameters) {
    if (std::uint32_t line = m.ParamLine(p)) return {m.MainCf(), line};
  }
  for (const Model::Reference& r : m.references) {
    if (std::find(t.parameters.begin(), t.parameters.end(), r.parameter) !=
        t.parameters.end()) {
      return {r.file, r.line};
    }
  }
  return {t.source.empty() ? t.file : t.source, 0};
}

std::string Mode(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// Editor, package manager and admin copies ("sasl_passwd.bak").
bool IsBackupName(std::string_view n) {
  if (n.back() == '~') return true;
  for (std::string_view suffix :
       {".bak", ".orig", ".old", ".save", ".swp", ".tmp", ".dpkg-old",
        ".dpkg-dist", ".dpkg-new", ".rpmsave", ".rpmnew", ".ucf-dist"}) {
    if (n.size() > suffix.size() &&
        n.substr(n.size() - suffix.size()) == suffix) {
      return true;
    }
  }
  return false;
}

// A file beside a missing table whose name is close to it: the founding
// article's main.cf named sasl_passwd next to a file called sender_passwd.
// A built table's suffix is dropped; Postfix's own files, hidden files and
// backup copies are no candidates. Close: at most half the name's length in
// edits, or the same last "_word" of at least four letters.
std::string NearMiss(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path missing(path);
  const std::string name = missing.filename().string();
  auto last_word = [](std::string_view n) {
    const std::size_t u = n.rfind('_');
    return u == n.npos ? std::string_view() : n.substr(u + 1);
  };
  std::error_code ec;
  fs::directory_iterator it(missing.parent_path(), ec);
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  std::size_t seen = 0;
  for (; !ec && it != fs::directory_iterator() && seen < 1000;
       it.increment(ec), ++seen) {
    if (!it->is_regular_file(ec)) continue;
    std::string n = it->path().filename().string();
    for (std::string_view suffix : {".lmdb", ".cdb", ".db"}) {
      if (n.size() > suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
        n.resize(n.size() - suffix.size());
        break;
      }
    }
    if (n == name || n.empty() || n[0] == '.' || IsBackupName(n) ||
        n == "main.cf" || n == "master.cf" || n == "dynamicmaps.cf" ||
        n == "postfix-files") {
      continue;
    }
    const std::size_t d = EditDistance(name, n, LetterCase::kIgnoreAscii);
    const std::string_view w = last_word(name);
    const bool close = d * 2 <= std::max(name.size(), n.size()) ||
                       (w.size() >= 4 && w == last_word(n));
    if (close && (d < best_distance || (d == best_distance && n < best))) {
      best = n;
      best_distance = d;
    }
  }
  return best;
}

std::string NearMissHint(const std::string& path) {
  const std::string near = NearMiss(path);
  if (near.empty()) return " (is the name in main.cf right?)";
  return " (did you mean " + near + "? it is in the same directory)";
}

// A pattern table Postfix cannot open is fatal for the daemon that reads
// it; the rules it skips are its warnings (postmap's words, never the
// rule's result).
void CheckPatternTable(Model* m, const TableList& list, const ListTable& t) {
  if (!t.pattern_open.ok()) {
    std::string_view name = t.pattern;
    if (name.substr(0, 6) == "proxy:") name.remove_prefix(6);
    const std::string path(name.substr(name.find(':') + 1));
    if (t.pattern_open.sys_errno() == ENOENT) {
      m->Add(m->MainCf(), m->ParamLine(list.parameter), Severity::kError,
             "missing-table", t.display,
             t.display + ": the file " + path + " does not exist" +
                 NearMissHint(path));
    } else {
      m->report->trouble.push_back(t.pattern_open);
    }
    return;
  }
  for (const TableWarning& w : t.pattern_warnings) {
    const Diagnostic& d = w.diagnostic;
    m->Add(d.file, d.line, Severity::kWarning, "syntax", std::nullopt,
           d.message + " (Postfix skips or changes this rule)");
  }
}

// proxymap(8) serves a table only when proxy_read_maps names it with
// "proxy:" in front (its default names the parameters, so a table written
// there as proxy:X is approved); otherwise it logs "request for unapproved
// table" and the lookup fails: the mail is deferred.
void CheckProxyApproval(Model* m, const TableList& list, const ListTable& t) {
  const std::string approved = m->config->Get("proxy_read_maps");
  for (std::string_view item : SplitDestinations(approved)) {
    bool proxied = false;
    while (item.substr(0, 6) == "proxy:") {
      item.remove_prefix(6);
      proxied = true;
    }
    if (proxied && item == t.proxied_name) return;
  }
  m->Add(m->MainCf(), m->ParamLine(list.parameter), Severity::kError,
         "proxy-read-maps", "proxy:" + t.proxied_name,
         "proxy:" + t.proxied_name +
             ": proxymap(8) refuses this table: proxy_read_maps does not "
             "list it (Postfix logs \"request for unapproved table\" and "
             "the lookup fails); add proxy:" + t.proxied_name +
             " to proxy_read_maps");
}

// An SQL table's .cf file: missing, Postfix cannot open the table; it
// holds the database password, so others must not read it (Postfix's
// daemons read it as root, or through proxymap).
void CheckSqlConfig(Model* m, const TableList& list, const ListTable& t) {
  struct stat st;
  if (stat(t.sql_config.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      m->Add(m->MainCf(), m->ParamLine(list.parameter), Severity::kError,
             "missing-table", t.display,
             t.display + ": the configuration file " + t.sql_config +
                 " does not exist" + NearMissHint(t.sql_config));
    }
    return;  // other errors: the lookups report them
  }
  if (m->options->sources_only || (st.st_mode & S_IROTH) == 0) return;
  Result<CfParams> params = CfParams::ReadFile(t.sql_config);
  if (!params) return;
  const CfValue* password = params->Find("password");
  if (password == nullptr || password->value.empty()) return;
  m->Add(t.sql_config, password->line, Severity::kError, "world-readable",
         t.display,
         t.display + ": " + t.sql_config + " holds the database password "
             "and is readable by others (mode " + Mode(st.st_mode) +
             "); chmod o-r, and 0640 root:postfix for proxymap");
}


void CheckStale(Model* m, FileTable& t) {
  auto [file, line] = TablePlace(*m, t);
  const std::string name = t.spec.ToString();
  if (!t.readable_type) {
    m->Add(file, line, Severity::kWarning, "not-checked", name,
           name + ": mapctl cannot read " +
               std::string(TableTypeName(t.spec.type)) +
               " tables in this build: not checked");
    return;
  }
  if (!t.source_exists && (t.file.empty() || !t.file_exists)) {
    m->Add(file, line, Severity::kError, "missing-table", name,
           name +
               (t.file.empty() ? ": the source " + t.source + " does not exist"
                               : ": neither the source " + t.source +
                                     " nor the table " + t.file + " exists") +
               NearMissHint(t.source.empty() ? t.file : t.source));
    return;
  }
  if (t.file.empty() || m->options->sources_only || !m->Enabled("stale")) {
    return;
  }
  if (!t.file_exists) {
    HintedText message;
    message += name + ": the source exists but " + t.file +
               " was never built: Postfix cannot open the table (run ";
    message.Hint(HintCode::kBuildTable, "postmap");
    message += ")";
    m->Add(t.source, 0, Severity::kError, "stale", name,
           std::move(message.text), std::move(message.hints));
    return;
  }
  if (!t.source_exists) {
    m->Add(file, line, Severity::kWarning, "stale", name,
           name + ": " + t.file + " has no source " + t.source +
               ": its freshness cannot be checked (fine when only built "
               "tables are shipped)");
    return;
  }
  if (!t.staleness) return;  // unreadable: reported as trouble
  const TableStaleness& st = *t.staleness;
  if (!st.error.ok()) {
    m->report->trouble.push_back(st.error);
    return;
  }
  if (st.counts.identical()) return;
  const DiffCounts* counts = &st.counts;
  const std::string& first = st.first_key;
  std::string hint = st.matches_with_r ? " (it matches if built with -r)" : "";
  // Counts from the table's point of view: "added" = only in the source.
  m->Add(t.source, t.LineOf(first), Severity::kError, "stale", name,
         name + ": " + t.file +
             " differs from its source: " + std::to_string(counts->removed) +
             " key(s) only in the source, " + std::to_string(counts->added) +
             " only in the table, " + std::to_string(counts->changed) +
             " changed value(s)" + hint + "; rebuild it");
}

void CheckModes(Model* m, FileTable& t, const struct passwd* owner) {
  if (!t.credential || m->options->sources_only) return;
  for (const std::string* path : {&t.source, &t.file}) {
    struct stat st;
    if (path->empty() || stat(path->c_str(), &st) != 0) continue;
    if (st.st_mode & S_IROTH) {
      m->Add(*path, 0, Severity::kError, "world-readable", t.spec.ToString(),
             *path + " holds credentials and is readable by others (mode " +
                 Mode(st.st_mode) +
                 "): chmod o-rwx; smtp(8) reads it as "
                 "root");
    }
    bool table = path == &t.file || t.file.empty();
    if (table && owner != nullptr && (st.st_mode & S_IRGRP) &&
        st.st_gid != owner->pw_gid) {
      struct group* g = getgrgid(st.st_gid);
      std::string gname = g ? g->gr_name : std::to_string(st.st_gid);
      m->Add(*path, 0, Severity::kWarning, "group-readable", t.spec.ToString(),
             *path + " holds credentials and is readable by group " + gname +
                 " (mode " + Mode(st.st_mode) + "), not mail_owner's group");
    }
  }
}

}  // namespace

void CompareWithSource(FileTable* t, const ParsedMap& parsed) {
  auto diff = [&](DuplicatePolicy policy, std::string* first_key) {
    std::unique_ptr<EntryStream> src = StreamSource(parsed, policy);
    std::unique_ptr<EntryStream> table = StreamMemory(*t->built);
    return DiffStreams(
        *src, *table,
        [&](DiffOp, std::string_view key, std::string_view, std::string_view) {
          if (first_key->empty()) *first_key = key;
          return true;
        });
  };
  TableStaleness& st = t->staleness.emplace();
  Result<DiffCounts> counts = diff(DuplicatePolicy::kFirstWarn, &st.first_key);
  if (!counts) {
    st.error = counts.error();
    return;
  }
  st.counts = *counts;
  if (counts->identical()) return;
  std::string ignored;
  Result<DiffCounts> last = diff(DuplicatePolicy::kLast, &ignored);
  st.matches_with_r = last && last->identical();
}

void CheckFiles(Model* m) {
  const struct passwd* owner = nullptr;
  if (!m->options->sources_only && m->Enabled("group-readable")) {
    std::string name = m->config->Get("mail_owner");
    owner = getpwnam(name.c_str());
    if (owner == nullptr) {
      m->report->notes.push_back("group-readable skipped: mail_owner " + name +
                                 " does not resolve");
    }
  }
  for (auto& [name, t] : m->files) {
    CheckStale(m, *t);
    CheckModes(m, *t, owner);
  }
  for (const TableList* list : {&m->relay, &m->password}) {
    for (const ListTable& t : list->tables) {
      if (!t.pattern.empty()) CheckPatternTable(m, *list, t);
      if (!t.sql_config.empty()) CheckSqlConfig(m, *list, t);
      if (!t.proxied_name.empty()) CheckProxyApproval(m, *list, t);
      if (t.evaluated) continue;
      m->Add(m->MainCf(), m->ParamLine(list->parameter), Severity::kWarning,
             "not-checked", t.display,
             t.display +
                 ": check does not evaluate this table type: not "
                 "checked; senders whose lookups reach it are not "
                 "evaluated");
    }
  }
  for (const Model::Reference& r : m->references) {
    std::string_view item = r.table;
    while (item.substr(0, 6) == "proxy:") item.remove_prefix(6);
    std::string_view type = item.substr(0, item.find(':'));
    if (type != "hash" && type != "btree") continue;
    HintedText message;
    message += std::string(item) + " (" + r.parameter +
               "): Berkeley DB tables are going away (Postfix builds without "
               "it, 3.11's non-bdb migration); ";
    message.Hint(HintCode::kConvertTable, "convert it to an lmdb: table");
    m->Add(r.file, r.line, Severity::kWarning, "berkeley-db", std::string(item),
           std::move(message.text), std::move(message.hints));
  }
}

}  // namespace mapctl::check
