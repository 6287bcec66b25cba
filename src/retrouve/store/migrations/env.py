"""Alembic environment: runs migrations on the engine handed over by ``retrouve.store.migrate``.

On SQLite, foreign keys are off while the migrations run and checked before the commit:
batch mode rebuilds a table by copying it and dropping the original, and with foreign keys
on, dropping a parent table (``recordings``, ``users``) would first delete its children
through ``ON DELETE CASCADE``. The pragma only takes effect outside a transaction, so it is
set before the migration transaction begins, and restored on the same connection after.
(An engine that never enforced foreign keys, such as the plain ``alembic`` command's, is
left as it is.)
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from retrouve.errors import StoreError
from retrouve.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line use
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    enforced = sqlite and bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    if enforced:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=metadata,
                              render_as_batch=sqlite)
            context.run_migrations()
            if enforced:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise StoreError(f"migration would break foreign keys: {broken[:5]}")
    finally:
        if enforced:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
