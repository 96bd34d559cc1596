// cli_help.cc - see cli_help.h.

#include "cli_help.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "mapctl/edit_distance.h"

namespace mapctl::cli {
namespace {

// The name users type: the hidden "query-sender" is "query sender".
std::string Typed(std::string name) {
  return name == "query-sender" ? "query sender" : name;
}

// The nearest of `names` to `word`, if near enough to be a typo.
std::string Nearest(std::string_view word,
                    const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 0;
  for (const std::string& n : names) {
    const std::size_t d = EditDistance(word, n, LetterCase::kExact);
    if (best.empty() || d < best_distance) {
      best = n;
      best_distance = d;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace

bool IsCommandName(const std::vector<Command>& commands,
                   std::string_view word) {
  for (const Command& c : commands) {
    if (c.app->get_name() == word) return true;
  }
  return false;
}

std::string UnknownCommandMessage(const std::vector<Command>& commands,
                                  std::string_view word) {
  std::vector<std::string> names;
  for (const Command& c : commands) {
    if (c.app->get_name() != "query-sender") names.push_back(c.app->get_name());
  }
  std::string msg = "unknown command \"" + std::string(word) + "\"";
  const std::string near = Nearest(word, names);
  if (!near.empty()) msg += " (did you mean \"" + near + "\"?)";
  return msg;
}

std::string UnknownOptionMessage(const std::vector<Command>& commands,
                                 std::string_view what) {
  const Command* parsed = nullptr;
  for (const Command& c : commands) {
    if (c.app->parsed()) parsed = &c;
  }
  // CLI11: "The following argument was not expected: --strcit" (or
  // "arguments were ... : a b").
  std::string_view list = what.substr(what.rfind(": ") == std::string_view::npos
                                          ? 0
                                          : what.rfind(": ") + 2);
  std::istringstream words{std::string(list)};
  std::string word, unknown;
  while (words >> word) {
    if (word.size() > 1 && word[0] == '-') {
      unknown = word;
      break;
    }
  }
  if (parsed == nullptr || unknown.empty()) return std::string(what);
  std::vector<std::string> names;
  for (const CLI::Option* o : parsed->app->get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  std::string msg = Typed(parsed->app->get_name()) + ": unknown option " +
                    unknown.substr(0, unknown.find('='));
  const std::string near = Nearest(unknown.substr(0, unknown.find('=')), names);
  if (!near.empty()) msg += " (did you mean " + near + "?)";
  return msg;
}

void MoveSubcommandWord(std::vector<std::string>& words,
                        std::string_view first, std::string_view second,
                        const CLI::App& sub) {
  if (words.empty() || words[0] != first) return;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") return;
    if (w.size() < 2 || w[0] != '-') {
      if (w == second && i > 1) {
        words.erase(words.begin() + static_cast<std::ptrdiff_t>(i));
        words.insert(words.begin() + 1, std::string(second));
      }
      return;
    }
    // An option of `sub` that takes a value, given apart ("-c DIR"),
    // swallows the next word.
    const bool is_long = w.compare(0, 2, "--") == 0;
    if (is_long && w.find('=') != std::string::npos) continue;
    const CLI::Option* o = sub.get_option_no_throw(is_long ? w : w.substr(0, 2));
    if (o == nullptr) return;  // not an option of `sub`: leave it be
    const bool value_attached = !is_long && w.size() > 2;
    if (o->get_type_size() > 0 && !value_attached) ++i;
  }
}

void PrintHelp(const CLI::App& app, const std::vector<Command>& commands) {
  std::string text;
  for (const Command& c : commands) {
    if (c.app->parsed()) text = c.app->help(app.get_name());
  }
  if (text.empty()) text = app.help();
  for (std::size_t at; (at = text.find("mapctl query-sender")) !=
                       std::string::npos;) {
    text.replace(at, std::string_view("mapctl query-sender").size(),
                 "mapctl query sender");
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace mapctl::cli
