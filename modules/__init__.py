"""Project package."""
