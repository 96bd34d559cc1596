// postfix/sql_template.cc - query and result_format expansion (db_common.c).

#include "postfix/sql_template.h"

#include <algorithm>
#include <vector>

namespace mapctl::sql {
namespace {

constexpr unsigned kKeyDomain = 1u << 0;    // the key must have a domain
constexpr unsigned kKeyUser = 1u << 1;      // ... and a non-empty local part
constexpr unsigned kValueDomain = 1u << 2;  // a result value must have ...
constexpr unsigned kValueUser = 1u << 3;

// An address split at its last '@'. `has_at` false: no '@' at all.
struct Parts {
  bool has_at = false;
  std::string_view user;    // the whole text without an '@'
  std::string_view domain;  // empty without an '@'
};

Parts Split(std::string_view text) {
  Parts p;
  std::size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    p.user = text;
    return p;
  }
  p.has_at = true;
  p.user = text.substr(0, at);
  p.domain = text.substr(at + 1);
  return p;
}

// Domain labels, empty ones dropped (Postfix's argv_split on ".").
std::vector<std::string_view> Labels(std::string_view domain) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= domain.size()) {
    std::size_t dot = domain.find('.', pos);
    if (dot == std::string_view::npos) dot = domain.size();
    if (dot > pos) out.push_back(domain.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return out;
}

// db_common_expand's "does this text have what the flags need" test.
bool Lacks(const Parts& p, bool need_domain, bool need_user) {
  return (need_domain && p.domain.empty()) ||
         (need_user && p.has_at && p.user.empty());
}

}  // namespace

Status Templates::Scan(const std::string& text, bool query) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    char c = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (c) {
      case '%':
      case 's':
      case 'S':
        break;
      case 'u':
        flags_ |= query ? kKeyUser : kValueUser;
        break;
      case 'd':
        flags_ |= query ? kKeyDomain : kValueDomain;
        break;
      case 'U':
        flags_ |= kKeyUser;
        break;
      case 'D':
        flags_ |= kKeyDomain;
        break;
      default:
        if (c >= '1' && c <= '9') {
          nparts_ = std::max(nparts_, c - '0');
          flags_ |= kKeyDomain;
          break;
        }
        return Status::ParseError(std::string("invalid ") +
                                  (query ? "query" : "result") + " template: " +
                                  (c == '\0' ? std::string("'%' at the end")
                                             : "'%" + std::string(1, c) +
                                                   "' at byte " +
                                                   std::to_string(i + 1)));
    }
    ++i;
  }
  return Status::Ok();
}

Result<Templates> Templates::Parse(std::string query,
                                   std::string result_format) {
  Templates t;
  MAPCTL_RETURN_IF_ERROR(t.Scan(query, true));
  MAPCTL_RETURN_IF_ERROR(t.Scan(result_format, false));
  t.query_ = std::move(query);
  t.result_ = std::move(result_format);
  return t;
}

KeyFit Templates::Fit(std::string_view key) const {
  if (key.empty()) return KeyFit::kEmpty;
  if ((flags_ & (kKeyDomain | kKeyUser)) == 0) return KeyFit::kFits;
  Parts p = Split(key);
  if (Lacks(p, flags_ & kKeyDomain, flags_ & kKeyUser)) {
    return KeyFit::kSuppressed;
  }
  if (nparts_ > 0 &&
      Labels(p.domain).size() < static_cast<std::size_t>(nparts_)) {
    return KeyFit::kSuppressed;
  }
  return KeyFit::kFits;
}

Status Templates::ExpandQuery(std::string_view key, const Quoter& quote,
                              std::string* out) const {
  Parts p = Split(key);
  std::vector<std::string_view> labels;
  if (nparts_ > 0) labels = Labels(p.domain);
  for (std::size_t i = 0; i < query_.size(); ++i) {
    char c = query_[i];
    if (c != '%') {
      out->push_back(c);
      continue;
    }
    c = query_[++i];  // Parse() guarantees a valid sequence
    std::string_view piece;
    switch (c) {
      case '%':
        out->push_back('%');
        continue;
      case 's':
      case 'S':
        piece = key;
        break;
      case 'u':
      case 'U':
        piece = p.user;
        break;
      case 'd':
      case 'D':
        piece = p.domain;
        break;
      default:  // '1'..'9'
        piece = labels[labels.size() - static_cast<std::size_t>(c - '0')];
        break;
    }
    MAPCTL_RETURN_IF_ERROR(quote(piece, out));
  }
  return Status::Ok();
}

bool Templates::AppendResult(std::string_view value, std::string_view key,
                             std::string* out) const {
  Parts v = Split(value);
  if ((flags_ & (kValueDomain | kValueUser)) != 0 &&
      Lacks(v, flags_ & kValueDomain, flags_ & kValueUser)) {
    return false;
  }
  Parts k = Split(key);
  std::vector<std::string_view> labels;
  if (nparts_ > 0) labels = Labels(k.domain);
  if (!out->empty()) out->push_back(',');
  for (std::size_t i = 0; i < result_.size(); ++i) {
    char c = result_[i];
    if (c != '%') {
      out->push_back(c);
      continue;
    }
    switch (c = result_[++i]) {
      case '%':
        out->push_back('%');
        break;
      case 's':
        out->append(value);
        break;
      case 'S':
        out->append(key);
        break;
      case 'u':
        out->append(v.user);
        break;
      case 'U':
        out->append(k.user);
        break;
      case 'd':
        out->append(v.domain);
        break;
      case 'D':
        out->append(k.domain);
        break;
      default:  // '1'..'9'; Fit() made sure the key has enough labels
        out->append(labels[labels.size() - static_cast<std::size_t>(c - '0')]);
        break;
    }
  }
  return true;
}

}  // namespace mapctl::sql
