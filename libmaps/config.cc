// config.cc placeholder
