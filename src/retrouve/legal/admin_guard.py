"""What an admin may not do to accounts from the admin page, as one pure rule.

An installation must always keep an enabled admin who can reach the admin page, and an admin
should not lock themselves out by a slip of the mouse: so an admin may neither disable their
own account nor take away their own admin role (another admin does it), and nobody may
disable or demote the last enabled admin (create or enable another one first). The shell's
``retrouve users`` commands stay the way back in (whoever holds the server holds the
database), so they are not bound by this rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from retrouve.domain import Role
from retrouve.errors import AccountError
from retrouve.legal.accounts import User


def check_admin_change(actor: str, target: User, users: Iterable[User], *,
                       disable: bool = False, role: str | None = None) -> None:
    """Refuse (``AccountError``, keyed ``account.self_*`` / ``account.last_admin``) the
    change of ``target`` by admin ``actor``: disabling it (``disable``) or giving it
    ``role``; ``users`` are every account as they are now."""
    removes_admin = target.role is Role.ADMIN and not target.disabled and (
        disable or (role is not None and role != Role.ADMIN.value))
    if not removes_admin:
        return
    if target.name == actor:
        if disable:
            raise AccountError(f"{actor!r} cannot disable their own account: another admin "
                               "must", key="account.self_disable", params={"name": actor})
        raise AccountError(f"{actor!r} cannot take away their own admin role: another "
                           "admin must", key="account.self_demote", params={"name": actor})
    others = [u for u in users if u.role is Role.ADMIN and not u.disabled
              and u.name != target.name]
    if not others:
        raise AccountError(f"{target.name!r} is the last enabled admin: create or enable "
                           "another admin first", key="account.last_admin",
                           params={"name": target.name})
