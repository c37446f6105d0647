"""The server: REST API, HTML pages and the live catalog, in one FastAPI application."""
