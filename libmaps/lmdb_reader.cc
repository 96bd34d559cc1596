// lmdb_reader.cc - placeholder, being written.
