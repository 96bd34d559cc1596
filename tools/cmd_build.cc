// cmd_build.cc - placeholder, being written.
