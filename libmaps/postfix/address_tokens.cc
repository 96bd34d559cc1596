// postfix/address_tokens.cc - the RFC 822 token scanner (global/tok822_parse.c)
// and the internal form of a token list (tok822_internalize).

#include "postfix/address_tokens.h"

namespace mapctl::tok822 {
namespace {

// RFC 822 specials plus '%', '!' and '|', as Postfix's scanner has them.
constexpr std::string_view kOperators = "|%!()<>@,;:\\\".[]";

bool IsOperator(unsigned char c) {
  return c != 0 && kOperators.find(static_cast<char>(c)) != std::string::npos;
}

// Collects bytes up to `stop` (a terminator, or any operator/space for an
// atom), dropping backslashes before escaped bytes and turning whitespace
// into spaces. Leaves *i at the terminator.
template <typename Stop>
void Collect(std::string_view s, std::size_t* i, std::string* out, Stop stop) {
  while (*i < s.size()) {
    unsigned char c = s[*i];
    if (c == '\\') {
      if (++*i >= s.size()) break;
      c = s[*i];
    } else if (stop(c)) {
      break;
    }
    out->push_back(IsSpaceTabCrLf(c) ? ' ' : static_cast<char>(c));
    ++*i;
  }
}

void AppendToken(const Token& t, std::string* out) {
  switch (t.type) {
    case kAtom:
    case kQuoted:
    case kComment:
      out->append(t.text);
      break;
    case kDomainLiteral:
      out->push_back('[');
      out->append(t.text);
      out->push_back(']');
      break;
    default:
      out->push_back(static_cast<char>(t.type));
  }
}

}  // namespace

void Scan(std::string_view s, std::vector<Token>* tokens) {
  tokens->clear();
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i++];
    if (IsSpaceTabCrLf(c)) continue;
    Token t{kAtom, {}};
    if (c == '(') {
      // Comments nest and keep their external form.
      t.type = kComment;
      t.text.push_back('(');
      int level = 1;
      while (i < s.size()) {
        char ch = s[i++];
        t.text.push_back(ch);
        if (ch == '(') {
          ++level;
        } else if (ch == ')') {
          if (--level == 0) break;
        } else if (ch == '\\') {
          if (i >= s.size()) break;
          t.text.push_back(s[i++]);
        }
      }
    } else if (c == '[') {
      t.type = kDomainLiteral;
      Collect(s, &i, &t.text, [](unsigned char ch) { return ch == ']'; });
      if (i < s.size()) ++i;
    } else if (c == '"') {
      t.type = kQuoted;
      Collect(s, &i, &t.text, [](unsigned char ch) { return ch == '"'; });
      if (i < s.size()) ++i;
    } else if (c != '\\' && IsOperator(c)) {
      t.type = c;
    } else {
      --i;  // a backslash may start an atom
      Collect(s, &i, &t.text, [](unsigned char ch) {
        return IsSpaceTabCrLf(ch) || IsOperator(ch);
      });
      // An atom made of escaped specials needs quotes when shown again.
      for (unsigned char ch : t.text) {
        if (ch == ' ' || IsCntrl(ch) || IsOperator(ch)) {
          t.type = kQuoted;
          break;
        }
      }
    }
    tokens->push_back(std::move(t));
  }
}

std::string Internalize(const std::vector<Token>& tokens, std::size_t begin,
                        std::size_t end, bool spaces) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    AppendToken(tokens[i], &out);
    if (spaces && i + 1 < end && tokens[i].scanned &&
        (IsWord(tokens[i].type) || tokens[i].type == kComment) &&
        (IsWord(tokens[i + 1].type) || tokens[i + 1].type == kComment)) {
      out.push_back(' ');
    }
  }
  return out;
}
}  // namespace mapctl::tok822
