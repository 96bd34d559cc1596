// lmdb_writer.cc - placeholder, being written.
