// util/status.cc - Status formatting.

#include "mapctl/status.h"

#include <cstring>

namespace mapctl {

Status Status::IoError(std::string_view what, int errnum) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(errnum);
  Status s(ErrorCode::kIoError, std::move(msg));
  s.errno_ = errnum;
  return s;
}

std::string Excerpt(std::string_view text) {
  if (text.size() <= kMessageQuoteLimit) return std::string(text);
  std::size_t end = kMessageQuoteLimit;
  // Back to a lead byte: never half a character before the marker.
  for (int i = 0; i < 3 && end > 0 &&
                  (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80;
       ++i) {
    --end;
  }
  std::string out(text.substr(0, end));
  out += "...";
  return out;
}

std::string Status::ToString() const {
  const char* name = "ok";
  switch (code_) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: name = "invalid argument"; break;
    case ErrorCode::kParseError: name = "parse error"; break;
    case ErrorCode::kCorruption: name = "corruption"; break;
    case ErrorCode::kIoError: name = "i/o error"; break;
    case ErrorCode::kUnsupported: name = "unsupported"; break;
    case ErrorCode::kTableFull: name = "table full"; break;
    case ErrorCode::kBusy: name = "busy"; break;
    case ErrorCode::kChanged: name = "changed"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace mapctl
