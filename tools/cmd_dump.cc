// cmd_dump.cc - placeholder, being written.
