// cmd_verify.cc - placeholder, being written.
