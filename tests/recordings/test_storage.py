"""Recording stores: the same contract on a local directory and on S3 (moto's server)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringtrail.recordings.factory import make_store
from ringtrail.recordings.storage import (
    InvalidKey,
    LocalRecordingStore,
    RecordingMissing,
    RecordingStore,
    S3RecordingStore,
    StoreUnavailable,
)
from ringtrail.settings import Settings
from tests.recordings.rows import AUDIO

KEY = "p1/c2/r3-1.mp3"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free local port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, bucket: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="sqlite://",
        recordings_storage="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=bucket,
        s3_region="us-east-1",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )


@pytest.fixture
def s3_store(s3_endpoint: str, tmp_path: Path) -> S3RecordingStore:
    """A store on a fresh bucket, built from settings the way the app builds it."""
    bucket = f"recordings-{uuid.uuid4().hex[:12]}"
    store = make_store(s3_settings(s3_endpoint, bucket, tmp_path))
    assert isinstance(store, S3RecordingStore)
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordingStore:
    if request.param == "local":
        local = make_store(Settings(data_dir=tmp_path, database_url="sqlite://"))
        assert isinstance(local, LocalRecordingStore)
        assert local.root == tmp_path / "recordings"
        return local
    s3: RecordingStore = request.getfixturevalue("s3_store")
    return s3


def test_stored_audio_reads_back_byte_for_byte(store: RecordingStore) -> None:
    stored = store.put(KEY, AUDIO, "audio/mpeg")
    assert (stored.key, stored.size) == (KEY, len(AUDIO))
    assert store.get(KEY) == AUDIO
    assert store.exists(KEY)
    assert store.stat(KEY) == stored


def test_a_file_object_is_stored_to_its_end(store: RecordingStore) -> None:
    assert store.put(KEY, io.BytesIO(AUDIO), "audio/mpeg").size == len(AUDIO)
    assert store.get(KEY) == AUDIO


def test_a_byte_range_reads_just_those_bytes(store: RecordingStore) -> None:
    store.put(KEY, AUDIO, "audio/mpeg")
    assert b"".join(store.open(KEY, 100, 50_000)) == AUDIO[100:50_100]
    assert b"".join(store.open(KEY, len(AUDIO) - 10)) == AUDIO[-10:]
    assert b"".join(store.open(KEY, 5, 0)) == b""


def test_putting_again_replaces_the_audio(store: RecordingStore) -> None:
    store.put(KEY, AUDIO, "audio/mpeg")
    store.put(KEY, b"RIFF....WAVE", "audio/wav")
    assert store.get(KEY) == b"RIFF....WAVE"


def test_deleting_is_final_and_harmless_when_repeated(store: RecordingStore) -> None:
    store.put(KEY, AUDIO, "audio/mpeg")
    store.delete(KEY)
    store.delete(KEY)
    assert store.stat(KEY) is None
    assert not store.exists(KEY)


def test_a_missing_recording_is_reported_at_once(store: RecordingStore) -> None:
    assert store.stat("p1/c2/none.mp3") is None
    with pytest.raises(RecordingMissing):
        store.open("p1/c2/none.mp3")


@pytest.mark.parametrize(
    "key",
    ["", "../escape.mp3", "p1/../../etc/passwd", "/abs.mp3", "p1//x.mp3", ".hidden", "p1/c 2.mp3"],
)
def test_unsafe_keys_are_refused(store: RecordingStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, AUDIO, "audio/mpeg")


def test_local_files_land_under_the_root_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalRecordingStore(tmp_path / "recordings")
    store.put(KEY, io.BytesIO(AUDIO), "audio/mpeg")
    files = [p.relative_to(store.root) for p in store.root.rglob("*") if p.is_file()]
    assert files == [Path("p1/c2/r3-1.mp3")]
    assert (store.root / "p1/c2/r3-1.mp3").stat().st_mode & 0o077 == 0


class Broken(io.RawIOBase):
    """A stream that fails half way, like a download cut off."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        buffer[:4] = b"half"
        return 4


def test_a_failed_local_write_keeps_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    store = LocalRecordingStore(tmp_path / "recordings")
    store.put(KEY, AUDIO, "audio/mpeg")
    with pytest.raises(OSError, match="connection reset"):
        store.put(KEY, io.BufferedReader(Broken()), "audio/mpeg")
    assert store.get(KEY) == AUDIO
    assert os.listdir(store.root / "p1" / "c2") == ["r3-1.mp3"]


def test_local_delete_removes_emptied_folders_but_not_the_root(tmp_path: Path) -> None:
    store = LocalRecordingStore(tmp_path / "recordings")
    store.put(KEY, AUDIO, "audio/mpeg")
    store.put("p1/c9/r4-1.mp3", AUDIO, "audio/mpeg")
    store.delete(KEY)
    assert not (store.root / "p1" / "c2").exists()
    assert (store.root / "p1" / "c9").is_dir()
    store.delete("p1/c9/r4-1.mp3")
    assert store.root.is_dir() and list(store.root.iterdir()) == []


def test_s3_objects_keep_their_content_type(s3_store: S3RecordingStore) -> None:
    s3_store.put(KEY, io.BytesIO(AUDIO), "audio/mpeg")
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=KEY)
    assert head["ContentType"] == "audio/mpeg"


def test_s3_without_a_bucket_setting_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="RINGTRAIL_S3_BUCKET"):
        make_store(s3_settings("http://127.0.0.1:9", "", tmp_path))


def test_s3_on_a_missing_bucket_says_so(s3_endpoint: str, tmp_path: Path) -> None:
    store = make_store(s3_settings(s3_endpoint, "no-such-bucket", tmp_path))
    with pytest.raises(StoreUnavailable, match="NoSuchBucket"):
        store.put(KEY, AUDIO, "audio/mpeg")
