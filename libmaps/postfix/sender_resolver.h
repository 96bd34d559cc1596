// postfix/sender_resolver.h - the SenderResolver behind sender.h (internal),
// as leveldb's DBImpl is behind DB: the state one configuration's searches
// share and the buffers reused from sender to sender.
//
// sender_resolver.cc sets it up and runs a resolution; relay_search.cc and
// credential_search.cc are the two searches; sender_warnings.cc lists the
// settings outside the model.

#ifndef MAPCTL_LIBMAPS_POSTFIX_SENDER_RESOLVER_H_
#define MAPCTL_LIBMAPS_POSTFIX_SENDER_RESOLVER_H_

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapctl/config.h"
#include "mapctl/sender.h"
#include "util/string_hash.h"

namespace mapctl {

class SenderResolverImpl final : public SenderResolver {
 public:
  SenderResolverImpl() = default;

  // Reads everything the searches need from `config`.
  Status Init(const MainConfig& config, const SenderResolverOptions& options);

  Status Resolve(std::string_view address, std::string_view recipient,
                 SenderResolution* out) override;
  void EndBatch() override;
  void Prefetch(Span<const std::string_view> addresses) override;
  const std::vector<Warning>& config_warnings() const noexcept override {
    return config_warnings_;
  }
  const MapList& relay_maps() const noexcept override { return relay_maps_; }
  const MapList& password_maps() const noexcept override {
    return password_maps_;
  }

 private:
  // relay_search.cc: sender_dependent_relayhost_maps, relayhost, the
  // recipient's domain; sets out->relay and out->destinations.
  void ResolveRelay(SenderResolution* out);
  // credential_search.cc: the credentials of each destination.
  void ResolveCredentials(SenderResolution* out);

  // SenderResolverOptions::open_file_tables_now.
  void OpenFileTablesNow();
  // The next TriedKey slot of `out` (slots are reused across calls).
  TriedKey& AddTry(SenderResolution* out);
  // out->destinations = ParseDestinations(value), reusing its elements'
  // buffers and the parses of recent values (a check resolves a million
  // senders whose relay values mostly repeat).
  void SetDestinations(std::string_view value, std::vector<Destination>* out);
  void Recycle(std::optional<Credentials>* c);
  void Recycle(std::optional<TableMatch>* m);
  Credentials& NewCredentials(std::optional<Credentials>* slot);
  TableMatch& NewMatch(std::optional<TableMatch>* slot);

  AddressRewriteOptions rewrite_;
  LocalDomainMatcher local_;
  SenderKeyOptions key_options_;
  MapList relay_maps_;
  MapList password_maps_;
  std::string relayhost_;
  std::string empty_relay_key_;
  bool sasl_enabled_ = false;
  bool sender_auth_ = false;
  bool dns_disabled_ = false;
  MxResolver resolve_mx_;
  std::vector<Warning> config_warnings_;
  SenderKeys keys_;
  std::vector<QueryKey> prefetch_keys_;  // Prefetch()'s, buffers reused
  std::size_t tried_size_ = 0;
  // Buffers of earlier results, reused (see SetDestinations).
  std::unordered_map<std::string, std::vector<Destination>, StringHash,
                     std::equal_to<>>
      parsed_;
  std::vector<Credentials> spare_credentials_;
  std::vector<TableMatch> spare_matches_;
};

// sender_warnings.cc: the settings that can change the answer but are
// outside this model (transport_maps, a next hop in default_transport,
// master.cf services and their -o overrides, canonical maps, ...), in a
// stable order. `local` is the resolver's local-domain matcher.
std::vector<Warning> ConfigWarnings(const MainConfig& config,
                                    std::string_view master_cf,
                                    const LocalDomainMatcher& local,
                                    bool password_maps_empty);

}  // namespace mapctl

#endif  // MAPCTL_LIBMAPS_POSTFIX_SENDER_RESOLVER_H_
