"""Command-line entrypoint: `ringtrail serve`, `migrate`, `user`, `project`, `apikey`, `demo`."""
