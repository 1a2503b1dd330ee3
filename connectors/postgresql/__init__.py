"""PostgreSQL sources through asyncpg; config `{"dsn": "postgresql://user:pass@host:5432/db"}`."""
