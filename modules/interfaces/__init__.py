"""modules/interfaces package."""
