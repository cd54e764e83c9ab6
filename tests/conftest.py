"""Shared fixtures: an isolated data dir and settings per test, the shared corpus and
audio fixtures, and demo files made by the project itself."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from trainmode.config import load_settings
from trainmode.store import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
SETTING_VARS = (
    "TRAINMODE_BACKEND",
    "TRAINMODE_DATA_DIR",
    "TRAINMODE_WRITER",
    "TRAINMODE_MODEL",
    "TRAINMODE_BUCKET",
    "TRAINMODE_LICENSE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
)


SLOW_BY_KIND = ("browser", "postgres")  # a real Chromium or PostgreSQL: seconds per test at best
SLOW_FIXTURES = {"renders"}  # tests/test_analysis.py synthesises and listens to five renders: ~20 s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked browser or postgres, and tests needing a fixture that takes seconds, are slow
    too, so `pytest -m "not slow"` (the quick inner loop) leaves them out."""
    for item in items:
        kind = any(item.get_closest_marker(k) for k in SLOW_BY_KIND)
        if (kind or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def shared_dir(env_name: str, relative: str) -> Path:
    """A folder of ../shared; skip without it on a laptop, fail in CI."""
    path = Path(os.environ.get(env_name) or ROOT.parent / "shared" / relative)
    if not path.is_dir():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI must have ../shared beside the repo")
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return shared_dir("TRAINMODE_CORPUS", "corpus/als")


@pytest.fixture(scope="session")
def audio_fixtures() -> Path:
    return shared_dir("TRAINMODE_FIXTURES", "fixtures/audio")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data dir, the offline writer, and no real secrets."""
    for name in SETTING_VARS:
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("TRAINMODE_DATA_DIR", str(data))
    monkeypatch.setenv("TRAINMODE_SECRETS", str(tmp_path / "no-secrets.toml"))
    return data


_ANALYSES: dict[tuple[str, str | None], object] = {}


@pytest.fixture(autouse=True)
def each_saved_mp3_listened_to_once(monkeypatch):
    """Saving listens to the MP3 (a second or more each); the same bytes give the same (frozen)
    AudioAnalysis, so a session listens to each saved MP3 once, as tests/corpus.py parses each set
    once. Streams are not cached, and a test that replaces analyze_mp3 itself still does."""
    from trainmode.train import save

    real = getattr(save, "analyze_mp3", None)
    if real is None:
        return

    def listen_once(source, *, name=None, **options):
        if not isinstance(source, bytes | str | Path):
            return real(source, name=name, **options)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        # The options (e.g. the section spans to tag) change the answer: they are part of the key.
        key = (hashlib.sha256(data).hexdigest(), name, repr(sorted(options.items())))
        if key not in _ANALYSES:
            _ANALYSES[key] = real(source, name=name, **options)  # an error is raised, never kept
        return _ANALYSES[key]

    monkeypatch.setattr(save, "analyze_mp3", listen_once)
    # check_render: the demo (it listens before it captions, to the same renders every time) and the
    # CLI's save and generate --audio, run in-process
    from trainmode import service

    monkeypatch.setattr(service, "analyze_mp3", listen_once)


@pytest.fixture
def data_dir(isolated_settings) -> Path:
    return isolated_settings


@pytest.fixture
def settings(data_dir):
    return load_settings()


@pytest.fixture
def store(data_dir):
    s = EmbeddedStore(data_dir)
    yield s
    s.close()


@pytest.fixture
def supabase(monkeypatch, data_dir):
    """TRAINMODE_BACKEND=supabase in the environment, against the fake Supabase (tests/fake_supabase.py)
    with its bucket set up, for whatever opens the store from the settings (pages, TrainMode.open).
    Yields the fake."""
    from fake_supabase import FakeSupabase

    from trainmode.store.supabase.setup import setup_supabase

    with FakeSupabase() as fake:
        monkeypatch.setenv("TRAINMODE_BACKEND", "supabase")
        monkeypatch.setenv("SUPABASE_URL", fake.url)
        monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", fake.key)
        setup_supabase(load_settings(), echo=lambda *_: None)
        yield fake


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """The demo sets and MP3s, written once per session."""
    from trainmode.ops.demo import write_demo_files

    return write_demo_files(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def artist_with_sets(store, demo_files) -> dict[str, str]:
    """'Ada' with the three demo sets imported (the Library page's job, done directly):
    {file name: parse_id}."""
    from trainmode.sets.importing import import_sets

    results = import_sets(store, "Ada", [(als.name, als) for _, als, _ in demo_files])
    assert {r.status for r in results} == {"imported"}
    return {r.filename: r.parse_id for r in results}


@pytest.fixture
def audiofolder(monkeypatch, tmp_path):
    """datasets' real loaders, offline, without torch: datasets 5 imports torchcodec even
    to store a file path in an Audio column, so that one step stores the path as it would."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # read when datasets is first imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.Audio, "encode_example", lambda self, value: {"bytes": None, "path": value})
    return datasets


@pytest.fixture(scope="session")
def club_renders(tmp_path_factory):
    """A 128-BPM set in A minor (club.als, 15 s) and renders of it: the matching one, one at 140 BPM,
    one at 133 BPM (close: doubtful) and one after 3 s of silence. Made once per session."""
    from audio_synth import write_render, write_set

    folder = tmp_path_factory.mktemp("club")
    seconds = write_set(folder / "club.als", 128)
    return {
        "als": folder / "club.als",
        "match": write_render(folder / "club.mp3", 128, seconds),
        "fast": write_render(folder / "club_140.mp3", 140, seconds),
        "close": write_render(folder / "club_133.mp3", 133, seconds),
        "late": write_render(folder / "club_late.mp3", 128, seconds, lead_silence_s=3.0),
    }


# ---- the real Supabase Storage server (tests/real_storage.py) --------------------------
@pytest.fixture(scope="session")
def real_storage(tmp_path_factory):
    """Supabase Storage, built from ../shared/supabase-storage and started against a fresh
    PostgreSQL database, behind a gateway at one SUPABASE_URL. On a laptop without node/npm or
    PostgreSQL the tests that use it are skipped, with the reason; in CI they must run."""
    from real_storage import RealStorage, Unavailable

    source = shared_dir("TRAINMODE_STORAGE_SRC", "supabase-storage")
    storage = RealStorage(source, tmp_path_factory.mktemp("storage"))
    try:
        storage.start()
    except Unavailable as exc:
        if IN_CI:
            pytest.fail(f"CI must run the real Supabase Storage server, but {exc}")
        pytest.skip(f"the real Supabase Storage server cannot run here: {exc}")
    yield storage
    storage.stop()


@pytest.fixture
def real_supabase(real_storage):
    """A project on the real Storage for one test: its own private bucket (Train Mode's allowed
    types, 50 MiB) and its own PostgREST fake for the rows. Yields (url, service key, bucket, rest fake)."""
    import httpx
    from fake_supabase import FakeSupabase

    from trainmode.store.supabase.setup import ALLOWED_MIME_TYPES

    bucket = f"tm-{uuid.uuid4().hex[:12]}"
    auth = {"Authorization": f"Bearer {real_storage.service_key}"}
    with FakeSupabase(key=real_storage.service_key) as rest:
        real_storage.gateway.rest_url = rest.url
        created = httpx.post(
            f"{real_storage.url}/storage/v1/bucket",
            headers=auth,
            json={
                "id": bucket,
                "name": bucket,
                "public": False,
                "file_size_limit": 50 * 1024 * 1024,
                "allowed_mime_types": list(ALLOWED_MIME_TYPES),
            },
        )
        assert created.status_code == 200, created.text
        yield real_storage.url, real_storage.service_key, bucket, rest
        real_storage.gateway.rest_url = None
        httpx.post(f"{real_storage.url}/storage/v1/bucket/{bucket}/empty", headers=auth)
