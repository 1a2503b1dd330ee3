"""MongoDB sources through pymongo; config `{"uri", "database", "collection"}`, query a JSON filter."""
