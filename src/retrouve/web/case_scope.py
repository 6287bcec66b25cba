"""The active case of a web request: "no case, no processing" for every data route.

A browser session names its case with ``POST /case/select`` (``Session.active_case``); an API
token request names it with the ``X-Retrouve-Case: REF`` header. Either way the claim is
checked on **every** data request by :func:`in_case` with the CLI's own rule
(:meth:`retrouve.legal.casework.CaseDesk.work`: an open case the user is assigned to, with a
role that may work on footage — never an auditor), so closing a case or withdrawing an
assignment takes effect at once.

Without a case a data route raises :class:`~retrouve.errors.NoCaseError`: pages are
redirected to the case chooser (``GET /case/select``), the API answers 409 with a message
naming the missing case (``app.py``). The routes pass :attr:`InCase.scope` to the store query
(tracks, thumbnails, clips, recordings); an id the scoped query does not return is answered
exactly as an unknown id (404) and journalled as ``scope-refused`` by :func:`refused`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request

from retrouve.domain import ScopeWindow
from retrouve.errors import CaseError, NoCaseError
from retrouve.legal import journal as j
from retrouve.legal.cases import Actor, require_work
from retrouve.services import Services
from retrouve.store.cases import CaseRecord
from retrouve.web.auth import CASE_HEADER, RequestContext, current_context


@dataclass(frozen=True)
class InCase:
    """A request allowed inside ``case``: its context (``ctx.case`` set), the actor."""

    ctx: RequestContext
    actor: Actor
    case: CaseRecord

    @property
    def scope(self) -> tuple[ScopeWindow, ...]:
        """The case's windows in force, for the store query."""
        return self.case.scope


def actor_of(ctx: RequestContext) -> Actor:
    return Actor(ctx.user.name, ctx.user.role)


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def workable_cases(services: Services, ctx: RequestContext) -> list[CaseRecord]:
    """The cases the user may work in now (the same rule as :func:`in_case`), by reference."""
    actor = actor_of(ctx)
    out = []
    for case in services.store.list_cases():
        try:
            require_work(case, actor)
        except CaseError:
            continue
        out.append(case)
    return sorted(out, key=lambda c: c.ref)


def missing_case(ctx: RequestContext) -> NoCaseError:
    if ctx.via == "token":
        return NoCaseError(f"no case: send the header {CASE_HEADER}: REF naming an open case "
                           "you are assigned to (no case, no processing)")
    return NoCaseError("no active case: choose one at /case/select (no case, no processing)")


def in_case(request: Request, ctx: Annotated[RequestContext, Depends(current_context)]
            ) -> InCase:
    """Dependency of every data route: the active case, checked; ``NoCaseError`` without
    one. A session whose active case is no longer open to the user loses it (and is sent to
    the chooser); a token request naming a case it may not work in gets that refusal
    (unknown case 400, not assigned 403)."""
    if not ctx.case:
        raise missing_case(ctx)
    actor = actor_of(ctx)
    try:
        case = _services(request).cases.work(actor, ctx.case)
    except CaseError as exc:
        if ctx.via == "token":
            raise
        if ctx.session is not None:
            request.app.state.sessions.set_active_case(ctx.session, None)
        raise NoCaseError(f"case {ctx.case} is no longer open to you: {exc}") from exc
    allowed = InCase(replace(ctx, case=case.ref), actor, case)
    request.state.context = allowed.ctx
    return allowed


#: Route parameter type of the data routes: ``work: CaseCtx``.
CaseCtx = Annotated[InCase, Depends(in_case)]


def refused(request: Request, work: InCase, route: str, requested: object) -> None:
    """Journal a request for ``requested`` (an id) that the scoped store query did not return
    (outside the case's scope, or unknown). The caller then answers exactly as for an unknown
    id. If the entry cannot be written the request fails (500) rather than go unrecorded."""
    event = j.ScopeRefused(case=work.case.ref, route=route, requested=str(requested)[:200])
    with _services(request).journal.action(work.actor, event,
                                           f"journal a refused {route} in case {work.case.ref}"):
        pass


def like_in_scope(request: Request, work: InCase, like: int | None) -> None:
    """A find-similar reference outside the case is journalled as refused; the search then
    fails as for an unknown track (the engine's lookup is scoped too)."""
    if like is not None and _services(request).store.get_track(like, scope=work.scope) is None:
        refused(request, work, "similar", like)
