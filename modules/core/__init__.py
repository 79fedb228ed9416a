"""modules/core package."""
