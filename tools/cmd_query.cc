// cmd_query.cc - placeholder, being written.
