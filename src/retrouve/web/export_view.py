"""What the case page's *Export* section shows and offers: the case's export requests (state,
who asked and approved, what), whether this user may approve, build or download each one,
the progress of a build running in the background, and the request form.

The offers ask the same rules the actions enforce (``check_export_approver``,
``require_work``), so a button is shown only where the action would pass; the actions
(``case_exports.py``) still go through :class:`~retrouve.legal.exports.ExportDesk`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request

from retrouve.domain import ScopeWindow
from retrouve.errors import InputError
from retrouve.legal.cases import Actor, require_work
from retrouve.legal.exports import check_export_approver, spec_windows
from retrouve.services import Services
from retrouve.store.cases import CaseRecord
from retrouve.store.exports import ExportRecord, ExportState
from retrouve.web.case_form import ScopeRow
from retrouve.web.export_jobs import BuildState, ExportBuilds

#: Seconds between the case page's refreshes while one of its bundles is being built.
REFRESH_S = 3
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def builds(request: Request) -> ExportBuilds:
    found: ExportBuilds = request.app.state.exports
    return found


def exports_dir(services: Services, ref: str) -> Path:
    """Where the web writes case ``ref``'s bundles: ``data_dir/exports/<ref>``, the
    reference made one safe folder name (``2026/0042`` → ``2026_0042``)."""
    name = _UNSAFE.sub("_", ref)
    return services.settings.data_dir / "exports" / (f"_{name}" if set(name) <= {"."} else name)


def download_name(rec: ExportRecord) -> str:
    """The zip's file name for Content-Disposition: the bundle's own name, restricted to
    ``[A-Za-z0-9._-]`` (no quote, slash or control character can reach the header)."""
    name = _UNSAFE.sub("_", Path(rec.bundle_path or "").name)
    return name if name.endswith(".zip") and name != ".zip" else f"export-{rec.id}.zip"


def _passes(check: Any) -> bool:
    try:
        check()
    except InputError:
        return False
    return True


@dataclass(frozen=True)
class ExportRow:
    """One request as the page lists it, with what this user may do with it."""

    rec: ExportRecord
    windows: tuple[ScopeWindow, ...]
    build: BuildState | None
    can_approve: bool
    can_build: bool
    can_download: bool

    @property
    def building(self) -> bool:
        return self.build is not None and self.build.running


def export_view(request: Request, services: Services, actor: Actor, case: CaseRecord
                ) -> dict[str, Any]:
    """The template variables of the Export section (``exports``, ``export_form``,
    ``export_relevant``, ``export_rows``, ``export_typed``: the refused form as typed, else
    None; ``export_refresh``)."""
    works = _passes(lambda: require_work(case, actor))
    jobs = builds(request)
    rows = []
    for rec in services.store.list_exports(case.id):
        state = jobs.state(rec.id)
        running = state is not None and state.running
        rows.append(ExportRow(
            rec=rec, windows=spec_windows(rec.spec), build=state,
            can_approve=rec.state is ExportState.REQUESTED and _passes(
                lambda r=rec: check_export_approver(r, actor)),
            can_build=works and rec.state is ExportState.APPROVED and not running,
            can_download=works and rec.state is ExportState.PRODUCED
            and bool(rec.bundle_path) and Path(rec.bundle_path or "").is_file()))
    return {"exports": rows, "export_form": works,
            "export_relevant": services.store.relevant_tracks(case.id),
            "export_rows": [ScopeRow()], "export_typed": None,
            "export_refresh": REFRESH_S if any(r.building for r in rows) else None}


__all__ = ["ExportRow", "builds", "download_name", "export_view", "exports_dir"]
