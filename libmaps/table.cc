// table.cc placeholder
