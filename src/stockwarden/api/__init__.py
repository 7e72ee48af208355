"""The REST API (FastAPI): a face over ``stockwarden.services``; see ``api/main.py``."""

from stockwarden.api.main import create_app

__all__ = ["create_app"]
