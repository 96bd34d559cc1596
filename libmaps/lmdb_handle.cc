// lmdb_handle.cc - placeholder, being written.
