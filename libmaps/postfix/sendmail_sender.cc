// postfix/sendmail_sender.cc - a sender as `sendmail -f` parses it: an
// RFC 822 address list grouped the way global/tok822_parse.c groups it,
// the first address taken.

#include "mapctl/address.h"
#include "mapctl/fold.h"
#include "postfix/address_tokens.h"

namespace mapctl {
namespace {

using tok822::IsCntrl;
using tok822::IsWord;
using tok822::kComment;
using tok822::Token;

// Input checks that Postfix does not make but a command line should.
Status CheckSenderText(std::string_view text) {
  if (text.size() > kMaxAddressLength) {
    return Status::InvalidArgument(
        "address is too long (" + std::to_string(text.size()) +
        " bytes; at most " + std::to_string(kMaxAddressLength) + ")");
  }
  if (!IsAscii(text) && !IsValidUtf8(text)) {
    return Status::InvalidArgument("address is not valid UTF-8");
  }
  int comment = 0;
  int angle = 0;
  bool quoted = false;
  bool literal = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (IsCntrl(c) && c != '\t') {
      return Status::InvalidArgument(
          "address contains a control character at column " +
          std::to_string(i + 1));
    }
    if (c == '\\') {
      if (++i >= text.size()) {
        return Status::InvalidArgument("address ends in a backslash");
      }
      continue;
    }
    if (quoted) {
      if (c == '"') quoted = false;
    } else if (comment > 0) {
      if (c == '(') ++comment;
      if (c == ')') --comment;
    } else if (literal) {
      if (c == ']') literal = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(') {
      comment = 1;
    } else if (c == ')') {
      return Status::InvalidArgument("unbalanced ')' at column " +
                                     std::to_string(i + 1));
    } else if (c == '[') {
      literal = true;
    } else if (c == ']') {
      return Status::InvalidArgument("unbalanced ']' at column " +
                                     std::to_string(i + 1));
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (--angle < 0) {
        return Status::InvalidArgument("unbalanced '>' at column " +
                                       std::to_string(i + 1));
      }
    }
  }
  if (quoted) return Status::InvalidArgument("unbalanced '\"' in address");
  if (comment > 0) return Status::InvalidArgument("unbalanced '(' in address");
  if (literal) return Status::InvalidArgument("unbalanced '[' in address");
  if (angle > 0) return Status::InvalidArgument("unbalanced '<' in address");
  return Status::Ok();
}

}  // namespace

Result<std::string> ParseSendmailSender(std::string_view text, bool* several) {
  if (several != nullptr) *several = false;
  MAPCTL_RETURN_IF_ERROR(CheckSenderText(text));

  std::vector<Token> all;
  Scan(text, &all);
  // Comments are moved out of addresses by tok822_parse: drop them.
  std::vector<Token> tokens;
  tokens.reserve(all.size());
  for (Token& t : all) {
    if (t.type != kComment) tokens.push_back(std::move(t));
  }

  // Group the tokens into addresses from right to left the way
  // tok822_parse does: "<...>" is an address and the phrase before it is
  // not; ',' and ';' separate; two adjacent words start a new address;
  // "name:" opens a group.
  struct Range {
    long begin;
    long end;
  };
  std::vector<Range> found;  // right to left
  auto group = [&](long left, long right) {
    if (left + 1 < right) found.push_back({left + 1, right});
  };
  constexpr int kDoWord = 1;
  constexpr int kDoGroup = 2;
  int state = kDoWord;
  long right = static_cast<long>(tokens.size());
  long i = right - 1;
  auto stops_phrase = [&](long k) {
    int t = tokens[k].type;
    return t == '>' || t == ';' || t == ',' || t == ':';
  };
  while (i >= 0) {
    int t = tokens[i].type;
    if (t == ';') {
      group(i, right);
      right = i;
      state = kDoGroup | kDoWord;
      --i;
    } else if (t == ':' && (state & kDoGroup) != 0) {
      group(i, right);
      long j = i;
      while (j >= 0 && tokens[j].type != ',') --j;
      right = j;
      i = j;
    } else if (t == '>') {
      group(i, right);
      long j = i - 1;
      while (j >= 0 && tokens[j].type != '<') --j;
      group(j, i);
      long k = j;
      while (k >= 0 && !stops_phrase(k)) --k;
      right = k;
      i = k;
      state |= kDoWord;
    } else if (IsWord(t)) {
      if ((state & kDoWord) == 0) {
        group(i, right);
        right = i + 1;
      }
      state &= ~kDoWord;
      --i;
    } else if (t == ',') {
      group(i, right);
      right = i;
      state |= kDoWord;
      --i;
    } else {
      state |= kDoWord;
      --i;
    }
  }
  group(-1, right);

  if (several != nullptr) *several = found.size() > 1;
  if (found.empty()) return std::string();  // "<>" or nothing: null sender
  const Range& first = found.back();
  return Internalize(tokens, static_cast<std::size_t>(first.begin),
                     static_cast<std::size_t>(first.end), false);
}

}  // namespace mapctl
