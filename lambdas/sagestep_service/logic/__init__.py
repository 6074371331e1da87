"""The work of each function, free of client set-up so it can be tested against moto or fakes."""
