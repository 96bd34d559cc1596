// postfix/master_cf.cc - reading master.cf services (master(5),
// master/master_ent.c).

#include "postfix/master_cf.h"

#include "util/ascii.h"

namespace mapctl {
namespace {

constexpr std::string_view kBlanks = " \t\r\n\v\f";

// A logical line and, for each physical line joined into it, where its
// text starts: the physical line of any word can be told.
struct LogicalLine {
  std::string text;
  std::vector<std::pair<std::size_t, std::uint32_t>> starts;  // offset, line

  std::uint32_t LineAt(std::size_t offset) const {
    std::uint32_t line = starts.empty() ? 0 : starts.front().second;
    for (const auto& [at, n] : starts) {
      if (at > offset) break;
      line = n;
    }
    return line;
  }
};

// "name=value" or "{ name = value }" (the braces and the blanks next to
// them go, as extpar() removes them). Nothing without a '='.
void AddOverride(std::string_view word, std::uint32_t line,
                 MasterService* service) {
  if (BalancedBraces(word) == word.size() && word.size() >= 2) {
    word = Trim(word.substr(1, word.size() - 2));
  }
  std::size_t eq = word.find('=');
  if (eq == std::string_view::npos) return;
  service->overrides.push_back({std::string(Trim(word.substr(0, eq))),
                                std::string(Trim(word.substr(eq + 1))), line});
}

void ParseService(const LogicalLine& logical,
                  std::vector<MasterService>* services) {
  std::string_view rest = logical.text;
  std::vector<std::pair<std::string_view, std::uint32_t>> words;
  std::string_view word;
  auto add = [&]() {
    const std::size_t offset = word.data() - logical.text.data();
    words.emplace_back(word, logical.LineAt(offset));
  };
  // The eight fields are plain words (get_str_ent() uses mystrtok); only
  // the command's arguments keep a {...} group whole (mystrtokq).
  while (words.size() < 8) {
    const std::size_t start = rest.find_first_not_of(kBlanks);
    if (start == std::string_view::npos) return;
    rest.remove_prefix(start);
    word = rest.substr(0, rest.find_first_of(kBlanks));
    rest.remove_prefix(word.size());
    add();
  }
  while (NextListItem(&rest, &word, kBlanks)) add();
  MasterService s;
  s.name = std::string(words[0].first);
  s.type = std::string(words[1].first);
  s.command = std::string(words[7].first);
  s.line = words[0].second;
  for (std::size_t i = 8; i + 1 < words.size(); ++i) {
    if (words[i].first != "-o") continue;
    AddOverride(words[i + 1].first, words[i].second, &s);
    ++i;
  }
  services->push_back(std::move(s));
}

}  // namespace

std::vector<MasterService> ParseMasterCf(std::string_view text) {
  std::vector<MasterService> services;
  LogicalLine logical;
  auto flush = [&]() {
    if (!logical.text.empty()) ParseService(logical, &services);
    logical.text.clear();
    logical.starts.clear();
  };
  std::uint32_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::size_t first = 0;
    while (first < line.size() && IsAsciiSpace(line[first])) ++first;
    if (first == line.size() || line[first] == '#') continue;
    if (first == 0) flush();
    if (!logical.text.empty()) logical.text += ' ';
    logical.starts.emplace_back(logical.text.size(), line_no);
    logical.text.append(line.substr(first));
  }
  flush();
  return services;
}

}  // namespace mapctl
