"""Security primitives: API keys, tokens, credential encryption."""
