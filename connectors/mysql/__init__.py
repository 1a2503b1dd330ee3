"""MySQL and MariaDB sources through asyncmy; config `{"host", "port", "user", "password", "database"}`."""
