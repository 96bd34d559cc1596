// postfix/pcre_engine.cc - pcre: tables matched by PCRE2, with the options
// Postfix's util/dict_pcre.c (HAS_PCRE == 2) passes.
//
// No UTF or UCP mode, no JIT, and a NULL match context: the default match
// and heap limits, so that a pathological pattern gives up ("match limit
// exceeded") exactly where Postfix's does. A pattern may still start with
// (*UTF) itself, as it may for Postfix.

#include "postfix/pattern_engine.h"

#ifdef MAPCTL_HAVE_PCRE

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace mapctl::pattern {
namespace {

// pcre2_get_error_message() into a 256-byte buffer, as dict_pcre.c does;
// a message that does not fit is reported by number.
std::string PcreError(int code) {
  PCRE2_UCHAR buf[256];
  int len = pcre2_get_error_message(code, buf, sizeof(buf));
  if (len > 0) {
    return std::string(reinterpret_cast<const char*>(buf),
                       static_cast<std::size_t>(len));
  }
  return "unexpected pcre2 error code " + std::to_string(code);
}

class PcreScratch final : public EngineScratch {
 public:
  explicit PcreScratch(std::uint32_t max_groups)
      : data_(pcre2_match_data_create(max_groups + 1, nullptr)) {}
  PcreScratch(const PcreScratch&) = delete;
  PcreScratch& operator=(const PcreScratch&) = delete;
  ~PcreScratch() override { pcre2_match_data_free(data_); }

  pcre2_match_data* data() const { return data_; }

 private:
  pcre2_match_data* data_;
};

class PcreRegex final : public CompiledRegex {
 public:
  explicit PcreRegex(pcre2_code* code) : code_(code) {
    uint32_t count = 0;
    pcre2_pattern_info(code_, PCRE2_INFO_CAPTURECOUNT, &count);
    groups_ = count;
  }
  PcreRegex(const PcreRegex&) = delete;
  PcreRegex& operator=(const PcreRegex&) = delete;
  ~PcreRegex() override { pcre2_code_free(code_); }

  std::uint32_t group_count() const override { return groups_; }

  MatchResult Match(std::string_view subject, EngineScratch& scratch,
                    std::span<Span> groups, std::string* error) const override {
    pcre2_match_data* md = static_cast<PcreScratch&>(scratch).data();
    int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()),
                         subject.size(), 0, 0, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return MatchResult::kNoMatch;
    // rc == 0 would mean the match data is too small for this pattern;
    // the table sizes it for its largest pattern, so that is an error too.
    if (rc <= 0) {
      *error = PcreError(rc);
      return MatchResult::kError;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      // Groups past the last one that matched, and groups that took no
      // part, are PCRE2_UNSET, which is kUnset.
      if (i < static_cast<std::size_t>(rc)) {
        groups[i] = {ov[2 * i], ov[2 * i + 1]};
      } else {
        groups[i] = {kUnset, kUnset};
      }
    }
    return MatchResult::kMatch;
  }

 private:
  pcre2_code* code_;
  std::uint32_t groups_ = 0;
};

class PcreEngineImpl final : public Engine {
 public:
  unsigned default_options() const override {
    return PCRE2_CASELESS | PCRE2_DOTALL;
  }

  // pcre_table(5) flags. Postfix 3.7 built with PCRE2 has no PCRE_EXTRA,
  // so X only warns and the rule is kept.
  FlagEffect ApplyFlag(char flag, unsigned* options) const override {
    unsigned bit = 0;
    switch (flag) {
      case 'i':
        bit = PCRE2_CASELESS;
        break;
      case 'm':
        bit = PCRE2_MULTILINE;
        break;
      case 's':
        bit = PCRE2_DOTALL;
        break;
      case 'x':
        bit = PCRE2_EXTENDED;
        break;
      case 'A':
        bit = PCRE2_ANCHORED;
        break;
      case 'E':
        bit = PCRE2_DOLLAR_ENDONLY;
        break;
      case 'U':
        bit = PCRE2_UNGREEDY;
        break;
      case 'X':
        return FlagEffect::kObsolete;
      default:
        return FlagEffect::kUnknown;
    }
    *options ^= bit;
    return FlagEffect::kToggled;
  }

  Result<std::unique_ptr<CompiledRegex>> Compile(
      const std::string& regex, unsigned options,
      bool /*need_groups*/) const override {
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.c_str()),
                      PCRE2_ZERO_TERMINATED, options, &code, &offset, nullptr);
    if (re == nullptr) {
      return Status::ParseError("error in regex at offset " +
                                std::to_string(offset) + ": " +
                                PcreError(code));
    }
    return std::unique_ptr<CompiledRegex>(std::make_unique<PcreRegex>(re));
  }

  std::unique_ptr<EngineScratch> NewScratch(
      std::uint32_t max_groups) const override {
    return std::make_unique<PcreScratch>(max_groups);
  }
};

}  // namespace

Result<const Engine*> PcreEngine() {
  static const PcreEngineImpl engine;
  return &engine;
}

}  // namespace mapctl::pattern

#else  // !MAPCTL_HAVE_PCRE

namespace mapctl::pattern {

Result<const Engine*> PcreEngine() {
  return Status::Unsupported("pcre: support not built in");
}

}  // namespace mapctl::pattern

#endif  // MAPCTL_HAVE_PCRE
