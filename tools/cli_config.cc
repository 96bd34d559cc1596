// cli_config.cc - placeholder, being written.
