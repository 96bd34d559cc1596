// main.cc - placeholder, being written.
