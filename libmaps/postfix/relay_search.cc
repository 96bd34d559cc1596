// postfix/relay_search.cc - the relay of a sender, as trivial-rewrite(8)
// picks it for the relay and default address classes
// (trivial-rewrite/resolve.c): sender_dependent_relayhost_maps searched
// with mail_addr_find's keys (global/mail_addr_find.c), DUNNO ending the
// search; else relayhost; else the recipient's domain.

#include "postfix/sender_resolver.h"
#include "util/ascii.h"

namespace mapctl {

void SenderResolverImpl::ResolveRelay(SenderResolution* out) {
  RelayDecision& relay = out->relay;
  relay.outcome = Outcome::kNotFound;
  relay.status = Status::Ok();
  Recycle(&relay.match);
  Recycle(&relay.dunno);

  bool decided = false;
  if (!relay_maps_.empty()) {
    // resolve.c: the null sender is looked up as
    // empty_address_relayhost_maps_lookup_key.
    keys_.Build(out->canonical.null_sender
                    ? std::string_view(empty_relay_key_)
                    : std::string_view(out->canonical.internal),
                key_options_);
    for (std::size_t k = 0; k < keys_.size() && !decided; ++k) {
      const QueryKey& key = keys_[k];
      for (std::size_t t = 0; t < relay_maps_.size(); ++t) {
        Answer a = relay_maps_.Find(t, key.key, key.partial);
        if (a.outcome == Outcome::kSkipped) continue;
        TriedKey& tk = AddTry(out);
        tk.search = SearchKind::kRelay;
        tk.destination = -1;
        tk.table.assign(relay_maps_.table(t).display());
        tk.table_index = t;
        tk.key.assign(key.key);
        tk.step = key.step;
        tk.kind = MatchedBy::kSender;
        tk.result = a.outcome;
        tk.query.assign(a.detail);
        if (a.outcome == Outcome::kNotFound) continue;
        if (!Concluded(a.outcome)) {
          // maps.c: a failing table ends the search; Postfix defers.
          relay.outcome = a.outcome;
          relay.status = std::move(a.error);
          relay.value.clear();
          for (Destination& d : out->destinations) Recycle(&d.credentials);
          out->destinations.clear();
          return;
        }
        // DUNNO, in any case, ends the search without a relay.
        const bool dunno = EqualsIgnoreCase(a.value, "DUNNO");
        TableMatch& m = NewMatch(dunno ? &relay.dunno : &relay.match);
        m.table.assign(tk.table);
        m.table_index = t;
        m.key.assign(key.key);
        m.line = a.where ? a.where->line : 0;
        if (dunno) {
          tk.result = Outcome::kDunno;
          relay.outcome = Outcome::kDunno;
        } else {
          relay.value.assign(a.value);
          relay.source = RelaySource::kSenderDependent;
          relay.outcome = Outcome::kFound;
        }
        decided = true;
        break;
      }
    }
  }
  if (!relay.match) {
    if (!relayhost_.empty()) {
      relay.value = relayhost_;
      relay.source = RelaySource::kRelayhost;
    } else {
      relay.value = out->recipient;
      relay.source = RelaySource::kRecipientDomain;
    }
  }
  SetDestinations(relay.value, &out->destinations);
}

}  // namespace mapctl
