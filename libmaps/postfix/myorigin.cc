// postfix/myorigin.cc - the domain myorigin stands for, and cleanup(8)'s
// rewriting settings read from main.cf.

#include "mapctl/address.h"
#include "mapctl/config.h"
#include "util/ascii.h"
#include "util/read_file.h"

namespace mapctl {

Result<std::string> ReadTextFile(const std::string& path) {
  ReadFileOptions options;
  options.limit = 65536;
  return ReadFile(path, options);
}

Result<std::string> ResolveMyorigin(std::string_view value,
                                    const FileReader& read) {
  value = Trim(value);
  if (value.empty() || value.front() != '/') return std::string(value);
  // Debian's Postfix reads the domain from the file's first line
  // (debian/README.Debian, "myorigin = /etc/mailname").
  std::string path(value);
  if (!read) {
    return Status::InvalidArgument("myorigin names a file (" + path +
                                   ") but no file reader was given");
  }
  Result<std::string> text = read(path);
  if (!text) return std::move(text).error();
  std::string_view first = *text;
  if (std::size_t nl = first.find('\n'); nl != first.npos) {
    first = first.substr(0, nl);
  }
  first = Trim(first);
  if (first.empty()) {
    return Status::ParseError("myorigin file " + path +
                              ": first line is empty");
  }
  return std::string(first);
}

Result<AddressRewriteOptions> RewriteOptionsFromConfig(const MainConfig& config,
                                                       const FileReader& read) {
  AddressRewriteOptions o;
  o.swap_bangpath = config.GetBool("swap_bangpath");
  // allow_percent_hack defaults to yes (postconf(5)); the config layer may
  // not know it.
  o.allow_percent_hack = config.GetRaw("allow_percent_hack").empty()
                             ? true
                             : config.GetBool("allow_percent_hack");
  o.append_at_myorigin = config.GetBool("append_at_myorigin");
  o.append_dot_mydomain = config.GetBool("append_dot_mydomain");
  Result<std::string> origin = ResolveMyorigin(config.Get("myorigin"), read);
  if (!origin) return std::move(origin).error();
  o.myorigin = std::move(*origin);
  o.mydomain = config.Get("mydomain");
  return o;
}

}  // namespace mapctl
