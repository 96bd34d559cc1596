// output.cc - placeholder, being written.
