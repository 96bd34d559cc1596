// source.cc - placeholder, being written.
