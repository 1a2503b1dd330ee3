"""Read-only views of a tenant's collections for browsing: counts, field catalogs, one record."""
