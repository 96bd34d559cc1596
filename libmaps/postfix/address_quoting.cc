// postfix/address_quoting.cc - internal and external address forms
// (global/quote_822_local.c: quote_822_local, unquote_822_local).

#include "mapctl/address.h"
#include "postfix/address_tokens.h"

namespace mapctl {
namespace {

using tok822::IsCntrl;

// quote_822_local's test: may this localpart appear without quotes?
bool IsDotAtom(std::string_view local) {
  if (local.empty() || local.front() == '.' || local.back() == '.') {
    return false;
  }
  for (std::size_t i = 0; i < local.size(); ++i) {
    unsigned char c = local[i];
    if (c == '.' && i + 1 < local.size() && local[i + 1] == '.') return false;
    if (c == ' ' || IsCntrl(c)) return false;
    switch (c) {
      case '(':
      case ')':
      case '<':
      case '>':
      case '@':
      case ',':
      case ';':
      case ':':
      case '\\':
      case '"':
      case '[':
      case ']':
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

void AppendExternalForm(std::string_view address, bool bare_localpart,
                        std::string* out) {
  // A source route ("@a,@b:user@c") stays outside the quotes.
  std::size_t start = 0;
  if (!address.empty() && address.front() == '@') {
    if (std::size_t colon = address.find(':'); colon != address.npos) {
      start = colon + 1;
    }
  }
  std::string_view rest = address.substr(start);
  std::size_t end = rest.size();
  if (!bare_localpart) {
    if (std::size_t at = rest.rfind('@'); at != rest.npos) end = at;
  }
  std::string_view local = rest.substr(0, end);
  if (IsDotAtom(local)) {
    out->append(address);
    return;
  }
  out->append(address.substr(0, start));
  out->push_back('"');
  for (char c : local) {
    if (c == '"' || c == '\\' || c == '\r') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
  out->append(rest.substr(end));
}

std::string ExternalForm(std::string_view address, bool bare_localpart) {
  std::string out;
  AppendExternalForm(address, bare_localpart, &out);
  return out;
}

std::string InternalForm(std::string_view address) {
  std::string out;
  std::size_t start = 0;
  if (!address.empty() && address.front() == '@') {
    if (std::size_t colon = address.find(':'); colon != address.npos) {
      start = colon + 1;
      out.append(address.substr(0, start));
    }
  }
  bool quoted = false;
  std::size_t bare_at_out = std::string::npos;
  std::size_t bare_at_in = 0;
  for (std::size_t i = start; i < address.size(); ++i) {
    char c = address[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (c == '@') {
      if (!quoted) {
        bare_at_out = out.size();
        bare_at_in = i;
      }
    } else if (c == '\\' && i + 1 < address.size()) {
      c = address[++i];
    }
    out.push_back(c);
  }
  // The domain after the last unquoted '@' is taken as written.
  if (bare_at_out != std::string::npos) {
    out.resize(bare_at_out);
    out.append(address.substr(bare_at_in));
  }
  return out;
}

}  // namespace mapctl
