// postfix/master_cf.cc - reading master.cf services (master(5)).

#include "postfix/master_cf.h"

namespace mapctl {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    std::size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

void AddOverride(std::string_view text, MasterService* service) {
  std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) return;
  auto trim = [](std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return std::string(s);
  };
  service->overrides.emplace_back(trim(text.substr(0, eq)),
                                  trim(text.substr(eq + 1)));
}

MasterService ParseService(std::string_view line) {
  std::vector<std::string> w = Words(line);
  MasterService s;
  if (w.size() < 8) return s;
  s.name = w[0];
  s.type = w[1];
  s.command = w[7];
  for (std::size_t i = 8; i < w.size(); ++i) {
    if (w[i] != "-o" || i + 1 >= w.size()) continue;
    if (w[i + 1] == "{") {
      // -o { name = value with spaces }
      std::string joined;
      std::size_t j = i + 2;
      for (; j < w.size() && w[j] != "}"; ++j) {
        if (!joined.empty()) joined += ' ';
        joined += w[j];
      }
      AddOverride(joined, &s);
      i = j;
    } else {
      AddOverride(w[i + 1], &s);
      ++i;
    }
  }
  return s;
}

}  // namespace

std::vector<MasterService> ParseMasterCf(std::string_view text) {
  std::vector<MasterService> services;
  std::string logical;
  auto flush = [&]() {
    if (!logical.empty()) {
      MasterService s = ParseService(logical);
      if (!s.name.empty()) services.push_back(std::move(s));
    }
    logical.clear();
  };
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t first = 0;
    while (first < line.size() && IsSpace(line[first])) ++first;
    if (first == line.size() || line[first] == '#') continue;
    if (first > 0) {
      logical += ' ';
      logical.append(line.substr(first));
    } else {
      flush();
      logical.assign(line);
    }
  }
  flush();
  return services;
}

}  // namespace mapctl
