"""Who may do what: the rights of each role, as one table (pure).

Footage (analysis, search, views) is never a role's right alone: it also needs an open case
the user is assigned to (:func:`retrouve.legal.cases.require_work`). The admin runs the
installation but sees footage only when assigned to a case; the auditor never does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from retrouve.domain import Role
from retrouve.errors import NotPermitted, Word


class Right(StrEnum):
    """What an action needs."""

    MANAGE_ACCOUNTS = "manage-accounts"
    MANAGE_CAMERAS = "manage-cameras"
    CHANGE_SETTINGS = "change-settings"
    INSTALL_PACKS = "install-packs"
    CREATE_CASE = "create-case"
    AMEND_CASE = "amend-case"
    APPROVE_AMENDMENT = "approve-amendment"
    ASSIGN_CASE = "assign-case"
    CLOSE_CASE = "close-case"
    READ_CASES = "read-cases"
    #: Analyse, search and view footage: in an assigned, open case only.
    WORK_IN_CASE = "work-in-case"
    READ_JOURNAL = "read-journal"
    READ_COVERAGE = "read-coverage"
    #: Approve an evidence export someone else asked for (the second person).
    APPROVE_EXPORT = "approve-export"
    #: Run the retention purge by hand (`retrouve retention run`, dry run included); the
    #: scheduled run inside `retrouve serve` acts as the ``retention`` system actor (admin).
    RUN_PURGE = "run-purge"


_CASEWORK = frozenset({Right.READ_CASES, Right.WORK_IN_CASE})

#: The rights of each role.
RIGHTS: Final[dict[Role, frozenset[Right]]] = {
    Role.ADMIN: frozenset({Right.MANAGE_ACCOUNTS, Right.MANAGE_CAMERAS, Right.CHANGE_SETTINGS,
                           Right.INSTALL_PACKS, Right.RUN_PURGE}) | _CASEWORK,
    Role.SUPERVISOR: frozenset({Right.CREATE_CASE, Right.AMEND_CASE, Right.APPROVE_AMENDMENT,
                                Right.ASSIGN_CASE, Right.CLOSE_CASE, Right.READ_COVERAGE,
                                # The supervisor answers the requisition: the export of its
                                # journal goes with the answer.
                                Right.READ_JOURNAL, Right.APPROVE_EXPORT,
                                # Retention is the site's duty: the supervisor may apply
                                # it now rather than wait for the daily run.
                                Right.RUN_PURGE})
    | _CASEWORK,
    # An operator may ask for an amendment in a case of theirs; a supervisor approves it.
    Role.OPERATOR: frozenset({Right.AMEND_CASE}) | _CASEWORK,
    Role.AUDITOR: frozenset({Right.READ_CASES, Right.READ_JOURNAL, Right.READ_COVERAGE}),
}


def allowed(role: Role, right: Right) -> bool:
    """Whether ``role`` holds ``right``."""
    return right in RIGHTS[role]


def require(user: str, role: Role, right: Right) -> None:
    """Raise ``NotPermitted`` naming the user, their role and the right when not allowed."""
    if not allowed(role, right):
        holders = tuple(Word(f"role.{r.value}") for r in Role if allowed(r, right))
        raise NotPermitted(key="right.denied", params={
            "user": user, "role": Word(f"role.{role.value}"),
            "right": Word(f"right.{right.value}"), "holders": holders})
