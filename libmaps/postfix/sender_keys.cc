// postfix/sender_keys.cc - the query keys Postfix derives from an address
// (global/mail_addr_find.c, default strategy).

#include "mapctl/address.h"

namespace mapctl {

struct SenderKeys::Rep {
  std::vector<QueryKey> keys;  // [0, size) valid; the rest keep buffers
  std::size_t size = 0;
  std::string base;
  std::string extension;
  std::string scratch;

  QueryKey& Next();
  void AddBothForms(std::string_view internal, KeyStep step, bool partial,
                    bool bare_localpart);
};

SenderKeys::SenderKeys() : rep_(std::make_unique<Rep>()) {}
SenderKeys::~SenderKeys() = default;
SenderKeys::SenderKeys(SenderKeys&&) noexcept = default;
SenderKeys& SenderKeys::operator=(SenderKeys&&) noexcept = default;

std::size_t SenderKeys::size() const noexcept { return rep_->size; }
const QueryKey& SenderKeys::operator[](std::size_t i) const {
  return rep_->keys[i];
}
const std::string& SenderKeys::extension() const noexcept {
  return rep_->extension;
}

std::string_view KeyStepName(KeyStep step) noexcept {
  switch (step) {
    case KeyStep::kFull:
      return "full";
    case KeyStep::kNoExt:
      return "noext";
    case KeyStep::kLocalpart:
      return "localpart";
    case KeyStep::kLocalpartNoExt:
      return "localpart_noext";
    case KeyStep::kAtDomain:
      return "at_domain";
  }
  return "unknown";
}

QueryKey& SenderKeys::Rep::Next() {
  if (size == keys.size()) keys.emplace_back();
  return keys[size++];
}

void SenderKeys::Rep::AddBothForms(std::string_view internal, KeyStep step,
                              bool partial, bool bare_localpart) {
  // mail_addr_find.c find_addr(), "external-first": the quoted form, then
  // the unquoted one if it is a different string.
  scratch.clear();
  AppendExternalForm(internal, bare_localpart, &scratch);
  bool differs = scratch != internal;
  QueryKey& ext = Next();
  ext.key.assign(scratch);
  ext.step = step;
  ext.partial = partial;
  ext.external = differs;
  if (differs) {
    QueryKey& in = Next();
    in.key.assign(internal);
    in.step = step;
    in.partial = partial;
    in.external = false;
  }
}

void SenderKeys::Build(std::string_view address,
                       const SenderKeyOptions& options) {
  Rep& r = *rep_;
  r.size = 0;
  r.extension.clear();
  if (address.empty()) return;
  bool has_base =
      SplitExtension(address, options.extension, &r.base, &r.extension);
  r.AddBothForms(address, KeyStep::kFull, false, false);
  if (has_base) r.AddBothForms(r.base, KeyStep::kNoExt, true, false);
  std::size_t at = address.rfind('@');
  if (at == address.npos) return;
  if (options.local != nullptr &&
      options.local->IsLocal(address.substr(at + 1))) {
    r.AddBothForms(address.substr(0, at), KeyStep::kLocalpart, true, true);
    if (has_base) {
      std::string_view base = r.base;
      r.AddBothForms(base.substr(0, base.rfind('@')), KeyStep::kLocalpartNoExt,
                   true, true);
    }
  }
  // "@domain" is looked up as is, never quoted.
  QueryKey& d = r.Next();
  d.key.assign(address.substr(at));
  d.step = KeyStep::kAtDomain;
  d.partial = true;
  d.external = false;
}

}  // namespace mapctl
