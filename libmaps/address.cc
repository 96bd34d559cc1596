// address.cc placeholder
