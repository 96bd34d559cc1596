// report.cc - placeholder, being written.
