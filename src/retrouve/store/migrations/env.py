"""Alembic environment: runs migrations on the engine handed over by ``retrouve.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from retrouve.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line use
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
