// plan_build.cc - placeholder, being written.
