// fold.cc - placeholder, being written.
