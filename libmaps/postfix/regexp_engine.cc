// postfix/regexp_engine.cc - regexp: tables matched by libc's regcomp() and
// regexec(), with the options Postfix's util/dict_regexp.c passes.
//
// Postfix never calls setlocale(), so glibc compiles and matches in the "C"
// locale: one byte is one character and REG_ICASE folds ASCII only. mapctl
// must not call setlocale() either, or non-ASCII keys would match
// differently (docs/compatibility.md).

#include <regex.h>

#include <vector>

#include "postfix/pattern_engine.h"

namespace mapctl::pattern {
namespace {

// The text Postfix logs: regerror() into a 256-byte buffer.
std::string RegError(int code, const regex_t* re) {
  char buf[256];
  regerror(code, re, buf, sizeof(buf));
  return buf;
}

class RegexpScratch final : public EngineScratch {
 public:
  explicit RegexpScratch(std::uint32_t max_groups)
      : matches(static_cast<std::size_t>(max_groups) + 1) {}
  std::vector<regmatch_t> matches;
};

class RegexpRegex final : public CompiledRegex {
 public:
  RegexpRegex() = default;
  RegexpRegex(const RegexpRegex&) = delete;
  RegexpRegex& operator=(const RegexpRegex&) = delete;
  ~RegexpRegex() override {
    if (compiled_) regfree(&re_);
  }

  Status Compile(const std::string& regex, int cflags) {
    int rc = regcomp(&re_, regex.c_str(), cflags);
    if (rc != 0) {
      std::string text = RegError(rc, &re_);
      // glibc leaves nothing to free after a failed regcomp().
      return Status::ParseError(std::move(text));
    }
    compiled_ = true;
    return Status::Ok();
  }

  std::uint32_t group_count() const override {
    return static_cast<std::uint32_t>(re_.re_nsub);
  }

  MatchResult Match(std::string_view subject, EngineScratch& scratch,
                    std::span<Span> groups, std::string* error) const override {
    auto& s = static_cast<RegexpScratch&>(scratch);
    // dict_regexp asks for exactly max_sub + 1 matches, or none at all
    // when the result uses no $n (and then compiled with REG_NOSUB).
    regmatch_t* pmatch = groups.empty() ? nullptr : s.matches.data();
    int rc = regexec(&re_, subject.data(), groups.size(), pmatch, 0);
    if (rc == REG_NOMATCH) return MatchResult::kNoMatch;
    if (rc != 0) {
      *error = RegError(rc, &re_);
      return MatchResult::kError;
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const regmatch_t& m = s.matches[i];
      if (m.rm_so < 0) {
        groups[i] = {kUnset, kUnset};
      } else {
        groups[i] = {static_cast<std::size_t>(m.rm_so),
                     static_cast<std::size_t>(m.rm_eo)};
      }
    }
    return MatchResult::kMatch;
  }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

class RegexpEngineImpl final : public Engine {
 public:
  unsigned default_options() const override { return REG_EXTENDED | REG_ICASE; }

  // regexp_table(5): i, m and x; x turns extended syntax *off*.
  FlagEffect ApplyFlag(char flag, unsigned* options) const override {
    switch (flag) {
      case 'i':
        *options ^= REG_ICASE;
        return FlagEffect::kToggled;
      case 'm':
        *options ^= REG_NEWLINE;
        return FlagEffect::kToggled;
      case 'x':
        *options ^= REG_EXTENDED;
        return FlagEffect::kToggled;
      default:
        return FlagEffect::kUnknown;
    }
  }

  Result<std::unique_ptr<CompiledRegex>> Compile(
      const std::string& regex, unsigned options,
      bool need_groups) const override {
    auto re = std::make_unique<RegexpRegex>();
    int cflags = static_cast<int>(options) | (need_groups ? 0 : REG_NOSUB);
    MAPCTL_RETURN_IF_ERROR(re->Compile(regex, cflags));
    return std::unique_ptr<CompiledRegex>(std::move(re));
  }

  std::unique_ptr<EngineScratch> NewScratch(
      std::uint32_t max_groups) const override {
    return std::make_unique<RegexpScratch>(max_groups);
  }
};

}  // namespace

const Engine& RegexpEngine() {
  static const RegexpEngineImpl engine;
  return engine;
}

}  // namespace mapctl::pattern
