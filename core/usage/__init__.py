"""Per-tenant usage counting and plan-limit enforcement."""
