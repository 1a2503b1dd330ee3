"""Source connectors: pull rows from a tenant's own database, one folder per kind behind one interface.

`connectors.registry.build_connector(kind, config)` gives a `connectors.base.SourceConnector`; its
`stream(query, last_pull=..., batch_size=...)` yields batches of JSON-safe dicts. No Dagster, no web
imports here: `assets/` and `core/` call this package, never the other way round.
"""
