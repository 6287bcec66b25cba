"""The CLI never reads user text as console markup: paths and names holding ``[/y]`` or
``[cam 12]`` are printed as they are, never crash a command nor vanish; camera ids have a
strict syntax (``cam 9`` refused, so it cannot collide with ``cam_9``); one bad file never
stops a folder ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clips import RED, Moving, make_clip, make_corrupt
from retrouve.catalogue.ingest import CAMERA_ID
from retrouve.cli import cli
from retrouve.cli.io import progress_bar
from retrouve.domain import Camera, StageStats, UnitResult
from retrouve.errors import CatalogueError
from retrouve.services import Services


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], terminal_width=300)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_markup_in_paths_and_names_is_printed_as_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "exports [/y]" / "[cam 12]"
    clip = make_clip(folder / "cam12_20260104_100000.mp4", seconds=1.0, fps=10,
                     objects=[Moving(RED, (40, 20), (0, 40), (200, 40), 0.0, 1.0)])
    bad = make_corrupt(folder / "cam12_20260104_110000 [bold]x[/bold].mp4")
    added = run(data, "cameras", "add", "cam12", "--name", "[cam 12] [/y] Gare")
    assert added.exit_code == 0, added.output
    listed = run(data, "cameras", "list")
    assert listed.exit_code == 0 and "[cam 12] [/y] Gare" in flat(listed.output)

    ingested = run(data, "ingest", str(tmp_path / "exports [/y]"), "--camera", "cam12")
    assert ingested.exit_code == 1, ingested.output  # the corrupt file refused, not a crash
    out = flat(ingested.output)
    assert str(clip.path) in out  # the good one added, its path shown whole
    assert f"refused {bad}" in out and "Traceback" not in out
    recs = run(data, "recordings")
    assert recs.exit_code == 0, recs.output
    assert "pending" in recs.output and "Traceback" not in recs.output
    js = json.loads(run(data, "recordings", "--json").output)
    assert [r["path"] for r in js] == [str(clip.path)]


def test_an_error_naming_a_markup_path_is_printed_whole(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere [/y] [cam 12].mp4"
    assert run(tmp_path / "data", "cameras", "add", "cam12").exit_code == 0
    out = run(tmp_path / "data", "ingest", str(missing), "--camera", "cam12")
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert str(missing) in flat(out.output)


def test_a_failing_unit_under_a_markup_path_does_not_stop_the_progress(
        capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(True) as update:
        update(1, 3, UnitResult("cam12-x@0000000.0", (), StageStats(),
                                error="cannot decode /v/[/y]/a.mp4 at t=0.00s"))
        update(2, 3, UnitResult("cam12-x@0000600.0", (), StageStats(),
                                error="cannot decode /v/[cam 12]/b.mp4 at t=0.00s"))
        update(3, 3, UnitResult("cam12-x@0001200.0", (), StageStats()))
    err = capsys.readouterr().err
    assert "/v/[/y]/a.mp4" in err and "/v/[cam 12]/b.mp4" in err


@pytest.mark.parametrize("bad", ["cam 9", "[cam 12]", "cam/9", "", "_cam", "cam.", "é9",
                                 "c" * 129])
def test_camera_ids_outside_the_safe_set_are_refused(services: Services, bad: str) -> None:
    with pytest.raises(CatalogueError, match="bad camera id"):
        services.catalogue.add_camera(Camera(bad, "x"))


def test_cam_9_and_cam_underscore_9_never_collide(services: Services, tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="'cam_9'"):  # the refusal suggests the safe id
        services.catalogue.add_camera(Camera("cam 9", "x"))
    assert services.catalogue.add_camera(Camera("cam_9", "x"))
    assert services.catalogue.add_camera(Camera("cam-9", "x"))
    with pytest.raises(CatalogueError, match=r"'CAM_9'.*'cam_9'"):
        services.catalogue.add_camera(Camera("CAM_9", "x"))
    assert CAMERA_ID.fullmatch("cam.12-a_b") and not CAMERA_ID.fullmatch("cam 12")
    clip = make_clip(tmp_path / "cam9_20260104_100000.mp4", seconds=1.0, fps=10)
    a = services.catalogue.ingest(str(clip.path), "cam_9").added
    b = services.catalogue.ingest(str(clip.path), "cam-9").added
    assert len(a) == len(b) == 1 and a[0].id != b[0].id  # the same file, two cameras


def test_cli_refuses_a_bad_camera_id_clearly(tmp_path: Path) -> None:
    out = run(tmp_path / "data", "cameras", "add", "cam 9")
    assert out.exit_code == 2 and "bad camera id 'cam 9'" in flat(out.output)
    assert "'cam_9'" in out.output


def test_one_unreadable_file_never_aborts_a_folder(services: Services, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    services.catalogue.add_camera(Camera("cam1", "x"))
    folder = tmp_path / "in"
    good = make_clip(folder / "cam1_20260104_100000.mp4", seconds=1.0, fps=10)
    locked = make_clip(folder / "cam1_20260104_110000.mp4", seconds=1.0, fps=10,
                       objects=[Moving(RED, (40, 20), (0, 40), (200, 40), 0.0, 1.0)])
    import retrouve.catalogue.ingest as ingest_module

    real = ingest_module.probe

    def probe(path: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if path.name == locked.path.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ingest_module, "probe", probe)
    report = services.catalogue.ingest(str(folder), "cam1")
    assert [r.path for r in report.added] == [str(good.path.resolve())]
    [(path, error)] = report.failed
    assert path == str(locked.path) and "Permission denied" in error
