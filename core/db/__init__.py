"""Storage: URLs, the embedded server, engines and sessions, models and migrations."""
