"""Neo4j sources through the neo4j driver; config `{"uri", "user", "password", "database"}`, query Cypher."""
