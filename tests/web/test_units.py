"""Pure pieces of the web application: limiter, sessions, view models, parameters, i18n."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.datastructures import QueryParams

from retrouve.domain import Box, Camera, Hit
from retrouve.errors import LoginThrottled
from retrouve.search.engine import SearchResult
from retrouve.store.db import Store
from retrouve.web.auth import LoginLimiter, SessionStore
from retrouve.web.i18n import CATALOGUE, WHY_EMPTY_KEYS, translator, why_empty_text
from retrouve.web.pages import safe_next
from retrouve.web.search_form import SearchParams
from retrouve.web.templating import TEMPLATES_DIR, format_seconds
from retrouve.web.views import TIMELINE_UNITS, thumbnail_overlay, timelines
from web.conftest import FakeClock


# ------------------------------------------------------------------------------- limiter
def test_limiter_window_and_reset(store: Store) -> None:
    clock = FakeClock()
    lim = LoginLimiter(store, clock=clock, max_failures=3, window_s=60)
    for _ in range(3):
        lim.check("a", "1.2.3.4")
        lim.failed("a", "1.2.3.4")
    with pytest.raises(LoginThrottled) as exc:
        lim.check("a", "9.9.9.9")  # the user is locked from any address
    assert 0 < exc.value.retry_after_s <= 61
    with pytest.raises(LoginThrottled):
        lim.check("b", "1.2.3.4")  # and the address for any user
    lim.check("b", "5.6.7.8")
    clock.now += 61
    lim.check("a", "1.2.3.4")


def test_limiter_success_resets_the_user_not_the_address(store: Store) -> None:
    lim = LoginLimiter(store, clock=FakeClock(), max_failures=2, window_s=60)
    lim.failed("a", "x")
    lim.failed("A", "y")  # names are case-folded
    with pytest.raises(LoginThrottled):
        lim.check("a", "z")
    lim.succeeded("a")
    lim.check("a", "z")
    lim.failed("c", "x")
    with pytest.raises(LoginThrottled):
        lim.check("d", "x")


def test_limiter_keeps_only_what_a_window_can_count(store: Store) -> None:
    clock = FakeClock()
    lim = LoginLimiter(store, clock=clock, window_s=60)
    for i in range(100):  # a spray of names and addresses
        lim.failed(f"user{i}", f"addr{i}")
    assert store.count_login_attempts() == 200
    clock.now += 61
    lim.failed("late", "addr")  # charging forgets what no window counts any more
    assert store.count_login_attempts() == 2


def test_limiter_counts_across_instances_on_one_store(store: Store) -> None:
    """Two server processes = two limiters over one database: the count is shared."""
    clock = FakeClock()
    one, two = (LoginLimiter(store, clock=clock, max_failures=4, window_s=60) for _ in "12")
    for lim in (one, two, one, two):
        lim.attempt("admin", "10.0.0.1")
    with pytest.raises(LoginThrottled):
        two.attempt("admin", "10.0.0.9")
    with pytest.raises(LoginThrottled):
        one.check("ADMIN", "10.0.0.9")


# ------------------------------------------------------------------------------ sessions
def test_sessions_expire(store: Store) -> None:
    clock = FakeClock()
    sessions = SessionStore(store, clock=clock, idle_s=100, absolute_s=1000, anonymous_s=50)
    uid = _user(store)
    user = sessions.create(uid)
    anon = sessions.create(None)
    clock.now += 60
    got = sessions.get(user.id)
    assert got is not None and (got.id, got.user_id, got.csrf_token) == (
        user.id, uid, user.csrf_token)
    assert sessions.get(anon.id) is None
    for _ in range(20):  # kept alive by use, until the absolute limit
        clock.now += 90
        if sessions.get(user.id) is None:
            break
    assert clock.now - 1000 >= 1000 - 90
    assert sessions.get(user.id) is None


def test_sessions_bounded_and_dropped_per_user(store: Store) -> None:
    sessions = SessionStore(store, clock=FakeClock(), max_sessions=3)
    uid = _user(store)
    made = [sessions.create(uid) for _ in range(5)]
    assert sessions.get(made[0].id) is None and sessions.get(made[-1].id) is not None
    assert store.count_web_sessions() == (0, 3)
    sessions.drop_user(uid)
    assert all(sessions.get(s.id) is None for s in made)
    assert sessions.get(None) is None and sessions.get("") is None


def test_sessions_are_shared_by_instances_on_one_store(store: Store) -> None:
    """What one process creates, changes or ends, another sees."""
    clock = FakeClock()
    one, two = (SessionStore(store, clock=clock, idle_s=100) for _ in "12")
    uid = _user(store)
    sess = one.create(uid, logged_in_at=datetime(2026, 1, 5, 12, tzinfo=UTC))
    seen = two.get(sess.id)
    assert seen is not None and (seen.csrf_token, seen.logged_in_at, seen.active_case) == (
        sess.csrf_token, sess.logged_in_at, None)
    two.set_active_case(seen, "PV-1")
    again = one.get(sess.id)
    assert again is not None and again.active_case == "PV-1"
    clock.now += 80  # used through the other one: still alive 160 s after creation
    assert two.get(sess.id) is not None
    clock.now += 80
    assert one.get(sess.id) is not None
    one.drop(sess.id)
    assert two.get(sess.id) is None


def test_the_table_holds_no_usable_session_id(store: Store) -> None:
    sess = SessionStore(store, clock=FakeClock()).create(None)
    assert store.web_session(sess.id) is None  # keyed by the id's SHA-256, not the id


def _user(store: Store) -> int:
    return store.add_user("marie", "h", "operator", datetime(2026, 1, 5, tzinfo=UTC))


# ------------------------------------------------------------------------- view models
@pytest.mark.parametrize(
    ("box", "size", "expected"),
    [
        # Margin 15 % of 100 = 15 → crop (85, 35)..(216, 166).
        (Box(100, 50, 200, 150), (640, 480), (131.0, 131.0, 15.0, 15.0, 100.0, 100.0)),
        # Clamped at the frame's top-left corner.
        (Box(0, 0, 40, 20), (640, 480), (47.0, 24.0, 0.0, 0.0, 40.0, 20.0)),
        # And at the bottom-right.
        (Box(600, 440, 640, 480), (640, 480), (46.0, 46.0, 6.0, 6.0, 40.0, 40.0)),
    ],
)
def test_thumbnail_overlay(box: Box, size: tuple[int, int],
                           expected: tuple[float, ...]) -> None:
    o = thumbnail_overlay(box, *size)
    assert o is not None
    assert (o.width, o.height, o.x, o.y, o.w, o.h) == expected
    assert thumbnail_overlay(box, 0, 0) is None


@pytest.mark.parametrize(
    ("box", "container", "expected"),
    [
        # Tall crop (53 × 131, box at 6, 15) in a 4:3 card 240 × 180: scale 180/131, bars
        # of 83.59 px left and right.
        (Box(100, 50, 140, 150), (240.0, 180.0), (91.83, 20.61, 54.96, 137.4)),
        # Wide crop (131 × 53, box at 15, 6): scale 240/131, bars of 41.45 px top and bottom.
        (Box(50, 100, 150, 140), (240.0, 180.0), (27.48, 52.44, 183.21, 73.28)),
        # Square crop (131 × 131): pillarbox of 30 px each side.
        (Box(100, 50, 200, 150), (240.0, 180.0), (50.61, 20.61, 137.4, 137.4)),
    ],
)
def test_overlay_fitted_any_crop_shape(box: Box, container: tuple[float, float],
                                       expected: tuple[float, ...]) -> None:
    """The box in the card's pixels, the crop fitted whole and centred (no stretching)."""
    o = thumbnail_overlay(box, 640, 480)
    assert o is not None
    got = o.fitted(*container)
    assert got == pytest.approx(expected, abs=0.05)
    # The box keeps the object's own aspect ratio whatever the card's shape.
    assert got[2] / got[3] == pytest.approx(box.width / box.height)


def _hit(track_id: int, camera: str, start: datetime, seconds: float) -> Hit:
    return Hit(track_id, camera, "r", start, start + timedelta(seconds=seconds), 0.5, "car",
               {}, Box(0, 0, 1, 1), start, None)


def test_timelines() -> None:
    t0 = datetime(2026, 1, 4, 9, 0, tzinfo=UTC)
    hits = [_hit(1, "a", t0, 60), _hit(2, "b", t0 + timedelta(minutes=50), 600),
            _hit(3, "a", t0 + timedelta(minutes=99), 60)]
    cams = {"a": Camera("a", "A", "Europe/Paris"), "b": Camera("b", "B", "UTC")}
    lines = timelines(hits, (t0, t0 + timedelta(minutes=100)), cams,
                      href_of=lambda h: f"/track/{h.track_id}", title_of=lambda h: "x")
    assert [ln.camera_id for ln in lines] == ["a", "b"]
    a, b = lines
    assert [m.x for m in a.marks] == [0.0, 990.0] and a.marks[0].w == 10.0
    assert b.marks[0].x == 500.0 and b.marks[0].w == 100.0
    assert a.start.utcoffset() == timedelta(hours=1) and b.start.utcoffset() == timedelta(0)
    assert all(0 <= m.x <= TIMELINE_UNITS for ln in lines for m in ln.marks)
    # Open window: taken from the hits.
    open_lines = timelines(hits, (None, None), cams, lambda h: "", lambda h: "")
    assert open_lines[0].start == t0 and timelines([], (None, None), cams,
                                                   lambda h: "", lambda h: "") == []


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (65.4, "1:05"), (3725, "1:02:05")])
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/track/3?x=1", "/track/3?x=1"), ("/search", "/search"), ("//evil", "/search"),
     ("http://evil", "/search"), ("/\\evil", "/search"), ("/login?next=/x", "/search"),
     (None, "/search"), ("/x\r\nSet-Cookie: a=b", "/search")],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


# ------------------------------------------------------------------------------- params
def test_search_params_parse_and_round_trip() -> None:
    qp = QueryParams("camera=c1&camera=c2&camera=c1&object=car&colour=&plate=AB*&limit=9999"
                     "&offset=-3&order=evil&like=12&from=2026-01-04T10:00")
    p = SearchParams.from_params(qp, default_limit=24, max_limit=200)
    assert p.cameras == ("c1", "c2") and p.object == "car" and p.colour is None
    assert (p.limit, p.offset, p.order, p.like) == (200, 0, "score", 12)
    assert p.time_from == "2026-01-04T10:00" and p.plate == "AB*"
    again = SearchParams.from_params(QueryParams(p.query_string()))
    assert again == p
    assert "offset=50" in p.query_string(offset=50)
    bad = SearchParams.from_params(QueryParams("limit=abc&like=x"), default_limit=24)
    assert bad.limit == 24 and bad.like is None


# --------------------------------------------------------------------------------- i18n
def test_catalogue_languages_have_the_same_keys() -> None:
    fr, en = set(CATALOGUE["fr"]), set(CATALOGUE["en"])
    assert fr == en, f"only in fr: {fr - en}; only in en: {en - fr}"
    for lang in ("fr", "en"):
        for key, text in CATALOGUE[lang].items():
            assert text.strip(), f"{lang} {key} is empty"
            fields = set(re.findall(r"\{(\w+)\}", text))
            other = set(re.findall(r"\{(\w+)\}", CATALOGUE["en" if lang == "fr" else "fr"][key]))
            assert fields == other, f"{key}: placeholders differ between languages"


def test_every_key_used_by_the_templates_exists() -> None:
    used: set[str] = set()
    for path in Path(TEMPLATES_DIR).glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*'(\w+\.\w+)'""", path.read_text()))
    for path in Path(TEMPLATES_DIR).parent.glob("*.py"):
        used |= set(re.findall(r"""["']((?:footage|error|login|search|empty)\.\w+)["']""",
                               path.read_text()))
    used = {k for k in used if not k.endswith(".html")}
    assert len(used) > 60
    known = set(CATALOGUE["fr"])
    # A count's key is a family (``key.one``/``key.other``, picked by ``tn``).
    missing = {k for k in used if k not in known and not {f"{k}.one", f"{k}.other"} <= known}
    assert not missing, f"keys missing from the catalogue: {sorted(missing)}"


def test_why_empty_sentences_are_translated() -> None:
    result = SearchResult.__new__(SearchResult)
    for in_scope, analysed in ((0, 0), (2, 0), (2, 2)):
        object.__setattr__(result, "hits", ())
        object.__setattr__(result, "recordings_in_scope", in_scope)
        object.__setattr__(result, "recordings_analysed", analysed)
        reason = result.empty_reason()
        assert reason in WHY_EMPTY_KEYS, f"engine reason not in the catalogue: {reason!r}"
        assert why_empty_text(reason, "fr") != result.why_empty()
    assert why_empty_text(None, "fr") is None


def test_translator_formats_and_falls_back() -> None:
    t = translator("en")
    assert t("hit.score", score="0.50") == "score 0.50"
    assert t("no.such.key") == "no.such.key"
    assert translator("de")("nav.search") == "Recherche"  # unknown language: French


def test_dynamic_key_families_are_complete() -> None:
    from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS
    from retrouve.legal.accounts import ROLES

    wanted = ({f"role.{r}" for r in ROLES} | {f"colour.{c}" for c in COLOURS}
              | {f"object.{o}" for o in (*QUERY_OBJECTS, *ACCESSORIES)}
              | {f"status.{s}" for s in ("pending", "analysing", "done", "failed", "partial")}
              | {"field.colour", "field.upper", "field.lower"})
    assert wanted <= set(CATALOGUE["fr"]), sorted(wanted - set(CATALOGUE["fr"]))


def test_search_form_offers_every_query_object() -> None:
    from retrouve.domain import QUERY_OBJECTS
    from retrouve.web.pages import OBJECT_CHOICES

    assert sorted(OBJECT_CHOICES) == sorted(QUERY_OBJECTS)
