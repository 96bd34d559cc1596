// lmdb_verify.cc - placeholder, being written.
