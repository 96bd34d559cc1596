// postfix/address_tokens.h - RFC 822 tokens as Postfix's scanner makes them
// (global/tok822_parse.c, tok822_tree.c): shared by the sendmail -f parser
// and cleanup's rewriting (internal).

#ifndef MAPCTL_LIBMAPS_POSTFIX_ADDRESS_TOKENS_H_
#define MAPCTL_LIBMAPS_POSTFIX_ADDRESS_TOKENS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mapctl::tok822 {

// A flat token list. Operators are their own byte; the other kinds are
// above 0xff.
enum TokenType : int {
  kAtom = 0x100,
  kQuoted,
  kDomainLiteral,
  kComment,
};

struct Token {
  int type;
  std::string text;
  bool scanned = true;  // false for tokens the rewriting moved or added
};

inline bool IsWord(int type) {
  return type == kAtom || type == kQuoted || type == kDomainLiteral;
}

inline bool IsCntrl(unsigned char c) { return c < 0x20 || c == 0x7f; }

inline bool IsSpaceTabCrLf(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Replaces *tokens with the tokens of `s`: comments nest and keep their
// text, quoted strings and domain literals lose their quotes/brackets and
// backslashes, an atom of escaped specials becomes kQuoted.
void Scan(std::string_view s, std::vector<Token>* tokens);

// Internal form of tokens[begin, end). With `spaces`, adjacent words that
// came straight from the scanner are separated by a space, as
// tok822_internalize does for tokens that belong to no address node.
std::string Internalize(const std::vector<Token>& tokens, std::size_t begin,
                        std::size_t end, bool spaces);

}  // namespace mapctl::tok822

#endif  // MAPCTL_LIBMAPS_POSTFIX_ADDRESS_TOKENS_H_
