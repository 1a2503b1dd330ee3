"""Tenants, accounts and API keys."""
