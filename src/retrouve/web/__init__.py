"""The operator web application (FastAPI): :func:`create_app` builds it over ``Services``.

Its settings are the ``web`` section of the settings tree (:class:`retrouve.config.WebSettings`).
"""

from __future__ import annotations

from retrouve.web.app import create_app

__all__ = ["create_app"]
