// sender_search_fuzz.cc - libFuzzer target: the relay and credential
// search for senders (SenderResolver) over in-memory tables.
//
// Input: five parts separated by lines "%%":
//   1. main.cf lines, read after a base configuration that names the two
//      tables below (sender-dependent relays and SASL credentials, both
//      with sender-dependent authentication on); later lines win;
//   2. master.cf text;
//   3. senders, one a line, each optionally followed by a tab and a
//      recipient;
//   4. the relay table's source (key whitespace value, as for postmap);
//   5. the credential table's source.
// A table source whose first line is "#!broken" fails every lookup.
//
// The tables live in memory (MemoryTable below), so no file is read: the
// open hook answers every file table a main.cf line may name with one of
// the two (a name containing "sasl" or "passw" gets the credentials). A
// fuzz target cannot link the gtest fake of tests/test_util.h.
//
// Invariants besides "no crash, no sanitizer report":
// - Resolve() either succeeds or refuses the address (kInvalidArgument);
// - every recorded query names a table of its search's list, by its
//   display form (inline: and static: tables never show their values),
//   and a destination that exists;
// - a relay found in the sender map says where it was found.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mapctl/config.h"
#include "mapctl/sender.h"
#include "mapctl/source.h"
#include "mapctl/table.h"

namespace {

using mapctl::fuzz::Check;

// Raw stored keys and values, as postmap writes lmdb: folded key + NUL,
// value + NUL.
struct MemoryData {
  std::map<std::string, std::string, std::less<>> raw;
  bool broken = false;
};

class MemoryUnit : public mapctl::ReadUnit {
 public:
  explicit MemoryUnit(const MemoryData* d) : d_(d) {}
  mapctl::Result<std::optional<std::string_view>> GetRaw(
      std::string_view key) override {
    if (d_->broken) return mapctl::Status::Corruption("memory: broken");
    auto it = d_->raw.find(key);
    if (it == d_->raw.end()) return std::optional<std::string_view>();
    return std::optional<std::string_view>(it->second);
  }
  mapctl::Status Scan(mapctl::ScanCursor& cursor, std::size_t limit,
                      const RawVisitor& visit) override {
    auto it = cursor.started ? d_->raw.upper_bound(cursor.token)
                             : d_->raw.begin();
    cursor.started = true;
    for (std::size_t n = 0; n < limit && it != d_->raw.end(); ++n, ++it) {
      cursor.token = it->first;
      if (!visit(it->first, it->second)) return mapctl::Status::Ok();
    }
    cursor.done = it == d_->raw.end();
    return mapctl::Status::Ok();
  }
  std::uint64_t version() const override { return 1; }

 private:
  const MemoryData* d_;
};

class MemoryTable : public mapctl::TableReader {
 public:
  MemoryTable(mapctl::TableSpec spec, const MemoryData* d)
      : TableReader(std::move(spec)), d_(d) {}
  bool sorted() const noexcept override { return true; }
  mapctl::Result<std::unique_ptr<mapctl::ReadUnit>> Begin() override {
    return std::unique_ptr<mapctl::ReadUnit>(new MemoryUnit(d_));
  }

 private:
  const MemoryData* d_;
};

MemoryData Load(std::string_view source) {
  MemoryData d;
  d.broken = source.substr(0, 8) == "#!broken";
  mapctl::ParseOptions po;
  po.origin = "fuzz";
  po.fold = mapctl::FoldMode::kUtf8;
  po.check_utf8 = false;
  mapctl::ParsedMap parsed = mapctl::ParseMapText(std::string(source), po);
  for (const mapctl::Entry& e : parsed.entries()) {
    std::string key(e.key());
    key.push_back('\0');
    std::string value(e.value());
    value.push_back('\0');
    d.raw.emplace(std::move(key), std::move(value));  // first one wins
  }
  return d;
}

constexpr std::string_view kBaseConfig =
    "compatibility_level = 3.6\n"
    "myorigin = local.test\n"
    "mydestination = local.test, localhost.local.test, localhost\n"
    "recipient_delimiter = +\n"
    "relayhost = [default.relay.test]:587\n"
    "sender_dependent_relayhost_maps = lmdb:/fuzz/relay\n"
    "smtp_sasl_auth_enable = yes\n"
    "smtp_sasl_password_maps = lmdb:/fuzz/sasl_passwd\n"
    "smtp_sender_dependent_authentication = yes\n";

void CheckTried(const mapctl::SenderResolution& r,
                const mapctl::SenderResolver& resolver) {
  for (const mapctl::TriedKey& t : r.tried) {
    const mapctl::MapList& list = t.search == mapctl::SearchKind::kRelay
                                      ? resolver.relay_maps()
                                      : resolver.password_maps();
    Check(t.table_index < list.size(), "a query of a table not in the list");
    Check(t.table == list.table(t.table_index).display(),
          "a query names its table by more than its display form");
    Check(t.destination < 0 ||
              static_cast<std::size_t>(t.destination) < r.destinations.size(),
          "a query for a destination that does not exist");
  }
  if (mapctl::Concluded(r.relay.outcome) &&
      r.relay.source == mapctl::RelaySource::kSenderDependent) {
    Check(r.relay.match.has_value(), "a sender-dependent relay from nowhere");
  }
  for (const mapctl::Destination& d : r.destinations) {
    if (d.credentials && d.outcome == mapctl::Outcome::kFound) {
      const mapctl::Credentials& c = *d.credentials;
      Check(c.table_index < resolver.password_maps().size(),
            "credentials from a table not in the list");
      Check(c.table == resolver.password_maps().table(c.table_index).display(),
            "credentials name their table by more than its display form");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> part = mapctl::fuzz::Sections(input, 5);
  std::string main_cf(kBaseConfig);
  main_cf.append(part[0]);
  mapctl::MainConfig config =
      mapctl::MainConfig::Parse(main_cf, "/fuzz-config", "main.cf");
  const MemoryData relay = Load(part[3]);
  const MemoryData sasl = Load(part[4]);

  mapctl::SenderResolverOptions options;
  options.master_cf = std::string(part[1]);
  options.read_file =
      [](const std::string& path) -> mapctl::Result<std::string> {
    if (path.find("missing") != std::string::npos) {
      return mapctl::Status::IoError("open " + path, 2);
    }
    return std::string("mailname.test\n");
  };
  options.own_address = [](std::string_view ip) { return ip == "192.0.2.1"; };
  options.resolve_mx = [](std::string_view domain)
      -> mapctl::Result<std::vector<std::string>> {
    if (domain.find("nomx") != std::string_view::npos) {
      return mapctl::Status::IoError("no MX for " + std::string(domain), 0);
    }
    return std::vector<std::string>{"mx1." + std::string(domain),
                                    "mx2." + std::string(domain)};
  };
  options.open = [&relay, &sasl](const mapctl::TableSpec& spec,
                                 const mapctl::OpenOptions&)
      -> mapctl::Result<std::unique_ptr<mapctl::TableReader>> {
    bool credentials = spec.path.find("sasl") != std::string::npos ||
                       spec.path.find("passw") != std::string::npos;
    return std::unique_ptr<mapctl::TableReader>(
        new MemoryTable(spec, credentials ? &sasl : &relay));
  };

  mapctl::Result<std::unique_ptr<mapctl::SenderResolver>> resolver =
      mapctl::SenderResolver::Create(config, options);
  if (!resolver) return 0;

  mapctl::SenderResolution out;  // reused, as `query sender` reuses it
  std::string_view senders = part[2];
  for (int n = 0; !senders.empty() && n < 16; ++n) {
    std::size_t nl = senders.find('\n');
    std::string_view line = senders.substr(0, nl);
    senders.remove_prefix(nl == std::string_view::npos ? senders.size()
                                                       : nl + 1);
    std::size_t tab = line.find('\t');
    std::string_view sender = line.substr(0, tab);
    std::string_view recipient =
        tab == std::string_view::npos ? "" : line.substr(tab + 1);
    mapctl::Status st = (*resolver)->Resolve(sender, recipient, &out);
    if (!st.ok()) {
      Check(st.code() == mapctl::ErrorCode::kInvalidArgument,
            "Resolve fails for another reason than a bad address");
    } else {
      CheckTried(out, **resolver);
    }
    if (n % 4 == 3) (*resolver)->EndBatch();
  }
  (*resolver)->EndBatch();
  return 0;
}
