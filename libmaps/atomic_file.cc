// atomic_file.cc - placeholder, being written.
