"""modules/adapters package."""
