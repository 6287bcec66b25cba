"""The command line, through click's test runner (no analysis: the CLI uses the real model)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clips import RED, Clip, Moving, make_clip, make_corrupt
from retrouve.cli import cli

COMMANDS = (
    (),
    ("cameras",),
    ("cameras", "add"),
    ("cameras", "list"),
    ("ingest",),
    ("recordings",),
    ("analyse",),
    ("search",),
    ("eval",),
    ("demo",),
    ("parse",),
    ("models",),
    ("models", "install"),
    ("serve",),
    ("users",),
    ("users", "add"),
    ("cases",),
    ("cases", "create"),
    ("journal",),
    ("journal", "verify"),
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("cli-clips")
    return make_clip(folder / "cam12_20260104_100000.mp4", seconds=2.0, fps=10,
                     objects=[Moving(RED, (60, 30), (0, 40), (260, 40), 0.0, 2.0)])


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


#: The case the search tests work in: every camera they add, over January 2026.
CASE = "T-1"


def open_case(data_dir: Path, *cameras: str) -> None:
    """Add ``cameras`` and a case over them that the (account-less) local user works in."""
    for cam in cameras:
        assert run(data_dir, "cameras", "add", cam).exit_code == 0
    scopes = [a for cam in cameras
              for a in ("--scope", f"{cam}:2026-01-01T00:00Z/2026-02-01T00:00Z")]
    made = run(data_dir, "cases", "create", CASE, "--basis", "60-1", "--procedure", "P-1",
               "--authority", "OPJ Test", "--purpose", "tests", "--assign", getpass.getuser(),
               *scopes)
    assert made.exit_code == 0, made.output


def flat(text: str) -> str:
    """The output with line wrapping undone (rich wraps long messages)."""
    return " ".join(text.split())


def test_cameras_add_then_list_json(tmp_path: Path) -> None:
    added = run(tmp_path, "cameras", "add", "cam-12", "--name", "Place de la Gare",
                "--timezone", "Europe/Paris", "--lat", "48.84", "--lon", "2.37")
    assert added.exit_code == 0, added.output
    assert "cam-12 added" in added.output
    again = run(tmp_path, "cameras", "add", "cam-12", "--name", "Place de la Gare",
                "--timezone", "Europe/Paris", "--lat", "48.84", "--lon", "2.37", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["created"] is False
    other = run(tmp_path, "cameras", "add", "cam-7", "--json")
    assert other.exit_code == 0 and json.loads(other.output)["created"] is True

    listed = run(tmp_path, "cameras", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {"id": "cam-12", "name": "Place de la Gare", "timezone": "Europe/Paris",
         "latitude": 48.84, "longitude": 2.37, "address": None},
        {"id": "cam-7", "name": "cam-7", "timezone": "Europe/Paris", "latitude": None,
         "longitude": None, "address": None},
    ]
    table = run(tmp_path, "cameras", "list")
    assert table.exit_code == 0 and "cam-12" in table.output and "Place de la Gare" in table.output


def test_cameras_add_conflicts_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "cameras", "add", "c1", "--name", "One").exit_code == 0
    clash = run(tmp_path, "cameras", "add", "c1", "--name", "Two")
    assert clash.exit_code == 2
    assert "c1" in flat(clash.output) and "already exists" in flat(clash.output)
    zone = run(tmp_path, "cameras", "add", "c2", "--timezone", "Mars/Base")
    assert zone.exit_code == 2 and "Mars/Base" in flat(zone.output)


@pytest.mark.parametrize("source", ["rtsp://x", "https://cam.example/live", "/dev/video0"])
def test_ingest_live_source_exits_2(tmp_path: Path, source: str) -> None:
    assert run(tmp_path, "cameras", "add", "c").exit_code == 0
    result = run(tmp_path, "ingest", source, "--camera", "c")
    assert result.exit_code == 2
    assert "recorded footage only" in flat(result.output)


def test_ingest_file_then_again_and_list_recordings(tmp_path: Path, clip: Clip) -> None:
    assert run(tmp_path, "cameras", "add", "cam12").exit_code == 0
    first = run(tmp_path, "ingest", str(clip.path), "--camera", "cam12", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    [added] = report["added"]
    assert report["skipped"] == [] and report["failed"] == []
    # Start from the file name, in the camera's zone (Paris, UTC+1 in January).
    assert added["start"] == "2026-01-04T10:00:00+01:00"
    assert added["duration_s"] == pytest.approx(2.0)

    second = run(tmp_path, "ingest", str(clip.path), "--camera", "cam12")
    assert second.exit_code == 0 and "known" in second.output and added["id"] in second.output

    recs = run(tmp_path, "recordings", "--json")
    assert recs.exit_code == 0
    [rec] = json.loads(recs.output)
    assert rec["id"] == added["id"] and rec["camera"] == "cam12"
    assert rec["status"] == "pending" and rec["error"] is None
    assert len(rec["sha256"]) == 64


def test_ingest_with_bad_file_exits_1_and_names_it(tmp_path: Path, clip: Clip) -> None:
    assert run(tmp_path, "cameras", "add", "cam12").exit_code == 0
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / clip.path.name).write_bytes(clip.path.read_bytes())
    make_corrupt(folder / "cam12_20260104_110000.mp4")
    result = run(tmp_path, "ingest", str(folder), "--camera", "cam12", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert len(report["added"]) == 1
    [failed] = report["failed"]
    assert failed["path"].endswith("cam12_20260104_110000.mp4")
    assert "cam12_20260104_110000.mp4" in failed["error"]


def test_ingest_unknown_camera_exits_2(tmp_path: Path, clip: Clip) -> None:
    result = run(tmp_path, "ingest", str(clip.path), "--camera", "ghost")
    assert result.exit_code == 2
    assert "ghost" in flat(result.output)


def test_search_bad_colour_exits_2(tmp_path: Path) -> None:
    open_case(tmp_path, "c")
    result = run(tmp_path, "search", "--case", CASE, "--colour", "mauve")
    assert result.exit_code == 2
    assert "mauve" in result.output


def test_search_unknown_camera_exits_2_naming_it(tmp_path: Path) -> None:
    open_case(tmp_path, "c")
    result = run(tmp_path, "search", "--case", CASE, "--camera", "nope")
    assert result.exit_code == 2
    # Keyed: in the command's language (French by default), with the registered ids.
    assert "caméra « nope » inconnue (caméras connues : c)" in flat(result.output)
    english = run(tmp_path, "search", "--case", CASE, "--camera", "nope", "--lang", "en")
    assert english.exit_code == 2
    assert "unknown camera 'nope' (known: c)" in flat(english.output)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("--object", "dragon"), "dragon"),
        # Naive times are read in the operator zone (Europe/Paris here): its DST gap and fold
        # are refused, as ingest refuses them.
        (("--from", "2026-03-29T02:30"), "does not exist in Europe/Paris"),
        (("--to", "2026-10-25T02:30"), "happens twice in Europe/Paris"),
        (("--from", "yesterday"), "ISO-8601"),
        (("--from", "2026-01-04T11:00+01:00", "--to", "2026-01-04T10:00+01:00"),
         "empty time window"),
        (("--object", "person", "--colour", "red"), "upper/lower"),
        (("--limit", "0"), "not in the range"),
        (("--plate", "AB#12"), "plate"),
        (("--make", "Renault"), "make/model classifier pack"),
        (("--accessory", "handbag", "--object", "car"), "apply to people"),
        (("--like", "42"), "unknown track 42"),
        (("--text", "le la les"), "nothing to search for"),
        (("--text", "voiture", "--tz", "Mars/Olympus"), "unknown time zone"),
    ],
)
def test_search_bad_queries_exit_2(tmp_path: Path, args: tuple[str, ...], text: str) -> None:
    open_case(tmp_path, "c")
    result = run(tmp_path, "--lang", "en", "search", "--case", CASE, *args)
    assert result.exit_code == 2
    assert text in flat(result.output)


def test_search_on_empty_index_explains_why(tmp_path: Path) -> None:
    open_case(tmp_path, "c")
    as_json = run(tmp_path, "search", "--case", CASE, "--camera", "c", "--object", "car",
                  "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data == {"hits": [], "why_empty": "no footage is registered for these cameras"}
    text = run(tmp_path, "--lang", "en", "search", "--case", CASE, "--camera", "c", "--from",
               "2026-01-04T10:00")
    assert text.exit_code == 0
    assert "no hits: no footage is registered" in flat(text.output)
    french = run(tmp_path, "search", "--case", CASE, "--camera", "c")  # French by default
    assert "aucun résultat : aucune vidéo n'est enregistrée" in flat(french.output)


def test_search_text_shows_its_interpretation(tmp_path: Path) -> None:
    open_case(tmp_path, "c")
    as_json = run(tmp_path, "search", "--case", CASE, "--camera", "c", "--text",
                  "camionnette blanche plaque FG*", "--json")
    assert as_json.exit_code == 0, as_json.output
    reading = json.loads(as_json.output)["interpretation"]
    assert reading["query"] == {"object": "van", "colour": "white", "plate": "FG*"}
    assert reading["unknown"] == []
    text = run(tmp_path, "search", "--case", CASE, "--camera", "c", "--text",
               "voiture rouge zorglub", "--lang", "en")
    assert text.exit_code == 0, text.output
    assert "understood: Vehicle: car" in flat(text.output)
    assert "ignored: zorglub" in flat(text.output)  # no image-text pack to rank by it
    # The lines follow --lang; the default is French in Europe/Paris.
    french = run(tmp_path, "search", "--case", CASE, "--camera", "c", "--text",
                 "voiture rouge zorglub")
    assert "compris : Véhicule : voiture" in flat(french.output)
    assert "ignoré : zorglub" in flat(french.output)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "retrouve")
def test_help_of_every_command(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "--help" in result.output


def test_version(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "retrouve" in result.output
