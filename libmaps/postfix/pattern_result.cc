// postfix/pattern_result.cc - splitting a rule's result text at $n
// references, with the checks and warnings of Postfix's load-time pre-scan
// (util/mac_parse.c, dict_regexp_prescan(), dict_pcre_prescan()).

#include "postfix/pattern_result.h"

#include <cstdlib>

#include "postfix/pattern_source.h"

namespace mapctl::pattern {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// atoi() as glibc computes it (strtol(), then the conversion to int), and
// then widened to size_t as dict_*_prescan() store it: "4294967295" is -1,
// which becomes a huge index that fails the group-count check later.
std::uint64_t AtoiIndex(std::string_view digits) {
  std::string copy(digits);
  long v = std::strtol(copy.c_str(), nullptr, 10);
  int n = static_cast<int>(v);
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(n));
}

}  // namespace

bool ResultTemplate::Parse(std::string_view text, bool hyphenated,
                           ResultTemplate* out,
                           std::vector<RuleProblem>* problems) {
  *out = ResultTemplate();
  bool error = false;
  std::string buf;
  auto quoted = [&] { return "\"" + std::string(text) + "\""; };
  auto literal = [&] {
    if (out->max_sub_ == 0) out->literal_ = buf;
    out->pieces_.push_back(Piece{buf, 0});
    buf.clear();
  };
  // One $NAME: Postfix keeps going after a bad name, so later names are
  // checked (and warned about) too.
  auto varname = [&] {
    if (!AllDigits(buf)) {
      problems->push_back({false,
                           "non-numeric replacement index \"" + buf + "\"",
                           "non-numeric replacement index in the result"});
      error = true;
    } else if (std::uint64_t n = AtoiIndex(buf); n < 1) {
      std::string t =
          std::string(hyphenated ? "out-of-range" : "out of range") +
          " replacement index \"" + buf + "\"";
      problems->push_back({false, t, t});
      error = true;
    } else {
      if (n > out->max_sub_) out->max_sub_ = n;
      out->pieces_.push_back(Piece{std::string(), n});
    }
    buf.clear();
  };

  std::size_t vp = 0;
  while (vp < text.size()) {
    if (text[vp] != '$') {
      buf.push_back(text[vp++]);
      continue;
    }
    if (vp + 1 < text.size() && text[vp + 1] == '$') {
      buf.push_back('$');
      vp += 2;
      continue;
    }
    if (!buf.empty()) literal();
    ++vp;
    if (vp < text.size() && (text[vp] == '(' || text[vp] == '{')) {
      const char open = text[vp];
      const char close = open == '(' ? ')' : '}';
      int level = 1;
      std::size_t ep = ++vp;
      for (; level > 0; ++ep) {
        if (ep == text.size()) {
          problems->push_back({true, "truncated macro reference: " + quoted(),
                               "truncated macro reference in the result"});
          return false;
        }
        if (text[ep] == open) ++level;
        if (text[ep] == close) --level;
      }
      // mac_parse() tests its accumulated status here: after an earlier
      // bad $NAME, the first complete $(...) or ${...} ends the parse
      // unreported ("$x$(2)${" warns about "x" only).
      if (error) return false;
      buf.append(text.substr(vp, ep - vp - 1));
      vp = ep;
    } else {
      std::size_t ep = vp;
      while (ep < text.size() && (IsAlnum(text[ep]) || text[ep] == '_')) ++ep;
      buf.append(text.substr(vp, ep - vp));
      vp = ep;
    }
    if (buf.empty()) {
      problems->push_back({true, "empty macro name: " + quoted(),
                           "empty macro name in the result"});
      return false;
    }
    varname();
  }
  if (!buf.empty() && !error) literal();
  if (error) return false;
  if (out->max_sub_ > 0) out->literal_.clear();
  return true;
}

void ResultTemplate::Expand(std::string_view subject,
                            std::span<const Span> groups,
                            std::string* out) const {
  for (const Piece& p : pieces_) {
    if (p.group == 0) {
      out->append(p.text);
      continue;
    }
    const Span& g = groups[p.group];
    if (g.begin != kUnset && g.end > g.begin) {
      out->append(subject.substr(g.begin, g.end - g.begin));
    }
  }
}

}  // namespace mapctl::pattern
