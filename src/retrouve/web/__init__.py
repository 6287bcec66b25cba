"""The operator web application (FastAPI): :func:`create_app` builds it over ``Services``."""

from __future__ import annotations

from retrouve.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
