"""Connectors API: register, list, pull and delete a tenant's database connectors."""
