"""modules/interfaces/http_api package."""
