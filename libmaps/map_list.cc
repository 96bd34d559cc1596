// map_list.cc placeholder
