// sender_lookup.cc placeholder
