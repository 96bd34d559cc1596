// check/check_values.cc - values smtp(8) cannot use, and keys postmap keeps only
// once (spec §6.8, §7.1, §8.5, §8.6).

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "check/check_internal.h"
#include "mapctl/relay.h"
#include "mapctl/secrets.h"

namespace mapctl::check {
namespace {

void CheckRelayValues(Model* m) {
  // Most relay values repeat: remember the ones already found good.
  std::unordered_set<std::string_view> good;
  for (const ListTable& t : m->relay.tables) {
    const MemoryTable* mt = t.entries();
    if (mt == nullptr) continue;
    for (const KeyEntry& e : mt->entries) {
      if (good.count(e.value) != 0) continue;
      if (IsValidRelayValue(e.value)) {
        if (good.size() < 4096) good.insert(e.value);
        continue;
      }
      std::string key(e.key);
      m->Add(t.file ? t.file->FileFor() : m->MainCf(),
             t.file ? t.file->LineOf(e.key) : m->ParamLine(m->relay.parameter),
             Severity::kError, "bad-value", key,
             Excerpt(key) +
                 ": the relay value is not a next hop smtp(8) accepts "
                 "([host], [host]:port, host, host:port, a list of them, "
                 "or DUNNO alone)");
    }
  }
}

void CheckCredentialValues(Model* m) {
  for (const ListTable& t : m->password.tables) {
    const MemoryTable* mt = t.entries();
    if (mt == nullptr) continue;
    for (const KeyEntry& e : mt->entries) {
      const CredentialValue cv = ParseCredentialValue(e.value);
      const bool bad = cv.malformed || cv.username.empty() ||
                       e.value.find('#') != std::string_view::npos;
      if (!bad) continue;  // the common case: nothing to build
      std::string key(e.key);
      std::string file = t.file ? t.file->FileFor() : m->MainCf();
      std::uint32_t line =
          t.file ? t.file->LineOf(e.key) : m->ParamLine(m->password.parameter);
      if (cv.malformed) {
        m->Add(file, line, Severity::kError, "bad-value", key,
               Excerpt(key) +
                   ": the credential value is not user:password (no ':'): "
                   "smtp(8) sends it all as the username with an empty "
                   "password");
      } else if (cv.username.empty()) {
        m->Add(file, line, Severity::kError, "bad-value", key,
               Excerpt(key) + ": the credential value has an empty username");
      } else {
        // postmap keeps everything after the key: a trailing "# note" is
        // part of the password (spec §8.5).
        std::string_view v = e.value;
        for (std::size_t h = v.find('#'); h != v.npos; h = v.find('#', h + 1)) {
          if (h > 0 && (v[h - 1] == ' ' || v[h - 1] == '\t')) {
            m->Add(file, line, Severity::kWarning, "bad-value", key,
                   Excerpt(key) +
                       ": the credential value contains whitespace and "
                       "'#': a comment after data is part of the password");
            break;
          }
        }
      }
    }
  }
}

void CheckKeys(Model* m, FileTable& t) {
  if (!t.parsed) return;
  for (const Diagnostic& d : t.diagnostics) {
    if (d.kind == DiagnosticKind::kAliasFormat) {
      m->Add(d.file, d.line, Severity::kWarning, "key-format", std::nullopt,
             "a \"key: value\" alias-style line: postmap keeps the ':' in "
             "the key, so this key never matches");
    } else {
      m->Add(d.file, d.line, d.severity, "syntax", std::nullopt, d.message);
    }
  }
  if (!m->Enabled("key-format")) return;
  if (t.duplicates.empty()) return;
  // The keys as written tell a case collision from a plain duplicate:
  // those of the lines the findings name.
  std::unordered_map<std::uint32_t, std::string> written;
  for (const auto& [line, key] : t.duplicates) {
    written.emplace(line, std::string());
    written.emplace(t.LineOf(key), std::string());
  }
  ParseOptions po;
  po.origin = t.source;
  po.fold = FoldMode::kNone;
  po.check_utf8 = m->check_utf8;
  if (Result<ParsedMap> raw = ParseMapFile(t.source, po)) {
    for (const Entry& e : raw->entries()) {
      auto it = written.find(e.line());
      if (it != written.end()) it->second = e.key();
    }
  }
  std::erase_if(written, [](const auto& w) { return w.second.empty(); });
  for (const auto& [line, key] : t.duplicates) {
    std::uint32_t first = t.LineOf(key);
    auto a = written.find(line);
    auto b = written.find(first);
    bool same =
        a == written.end() || b == written.end() || a->second == b->second;
    std::string shown = a == written.end() ? key : a->second;
    m->Add(t.source, line, Severity::kWarning, "key-format", key,
           same ? Excerpt(shown) + ": duplicate key (first at line " +
                      std::to_string(first) + "): postmap keeps the first"
                : Excerpt(shown) + ": collides with " + Excerpt(b->second) +
                      " (line " + std::to_string(first) +
                      ") after case folding: postmap keeps the first");
  }
}

}  // namespace

void CheckValues(Model* m) {
  if (m->Enabled("bad-value")) {
    CheckRelayValues(m);
    CheckCredentialValues(m);
  }
  for (auto& [name, t] : m->files) CheckKeys(m, *t);
}

}  // namespace mapctl::check
