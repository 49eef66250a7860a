"""Where recording audio is kept: the `RecordingStore` interface, a local directory and S3.

Keys are relative paths of plain segments (`p1/c2/r3-1.mp3`): letters, digits, `.`, `_`
and `-`, no segment starting with a dot. The local store writes atomically (a temporary file
in the same directory, then a rename), so a reader never sees half a file. boto3 is an
optional dependency (`pip install ringtrail[s3]`), imported only when an S3 store is built.
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CHUNK_BYTES = 64 * 1024
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
_KEY = re.compile(rf"{_SEGMENT}(/{_SEGMENT}){{0,7}}")


class InvalidKey(ValueError):
    """A storage key that could escape the store or is not a plain relative path."""


class RecordingMissing(LookupError):
    """No object is stored under the key."""


class StoreUnavailable(RuntimeError):
    """The store could not be reached or refused the operation; the text says why."""


@dataclass(frozen=True)
class StoredObject:
    """One stored recording: its key and size in bytes."""

    key: str
    size: int


def check_key(key: str) -> str:
    """`key` if it is a safe relative key, else InvalidKey."""
    if not _KEY.fullmatch(key) or any(part in {".", ".."} for part in key.split("/")):
        raise InvalidKey(f"unsafe recording key {key!r}")
    return key


class RecordingStore(ABC):
    """Keeps recording audio by key. Implementations must make `put` all-or-nothing."""

    @abstractmethod
    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> StoredObject:
        """Store `data` (bytes or a binary file read to its end) under `key`, replacing any."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """The object under `key`, or None when there is none."""

    @abstractmethod
    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes from `start` (`length` of them, or to the end) in chunks.

        Raises RecordingMissing at once (not on first iteration) when nothing is stored.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object under `key`; nothing happens when there is none."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        return self.stat(key) is not None

    def get(self, key: str) -> bytes:
        """The whole object under `key` (for small files and tests; serving uses `open`)."""
        return b"".join(self.open(key))


class LocalRecordingStore(RecordingStore):
    """Files under one directory, one per key; private to the process's user (mode 0600)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        """The file a key maps to, always inside the root."""
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> StoredObject:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        size = 0
        try:
            with os.fdopen(descriptor, "wb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                    size = len(data)
                else:
                    while chunk := data.read(CHUNK_BYTES):
                        out.write(chunk)
                        size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return StoredObject(key, size)

    def stat(self, key: str) -> StoredObject | None:
        path = self.path_of(key)
        try:
            return StoredObject(key, path.stat().st_size) if path.is_file() else None
        except FileNotFoundError:
            return None

    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        try:
            handle = self.path_of(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise RecordingMissing(key) from exc
        handle.seek(start)
        return _read_chunks(handle, length)

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        path.unlink(missing_ok=True)
        # Leave no empty per-call folders behind, but never remove the root itself.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _read_chunks(handle: IO[bytes], length: int | None) -> Iterator[bytes]:
    try:
        remaining = length
        while remaining is None or remaining > 0:
            size = CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining)
            chunk = handle.read(size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


class S3RecordingStore(RecordingStore):
    """Objects in one bucket of an S3-compatible service (AWS, MinIO, Ceph, Wasabi...).

    `client` is a boto3 S3 client; `from_settings` in `factory` builds one. The bucket must
    exist: the store never creates buckets.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def connect(
        cls,
        bucket: str,
        *,
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> S3RecordingStore:
        """A store on `bucket` with a boto3 client (empty values: boto3's own defaults)."""
        try:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]
        except ImportError as exc:  # the optional extra is not installed
            raise StoreUnavailable(
                "RINGTRAIL_RECORDINGS_STORAGE=s3 needs boto3: pip install 'ringtrail[s3]'"
            ) from exc
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3}),
        )
        return cls(client, bucket)

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes | IO[bytes], content_type: str) -> StoredObject:
        name = self._object(key)
        try:
            if isinstance(data, bytes):
                self.client.put_object(
                    Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
                )
                return StoredObject(key, len(data))
            # upload_fileobj sends large files in parts; S3 shows an object only when complete.
            self.client.upload_fileobj(
                data, self.bucket, name, ExtraArgs={"ContentType": content_type}
            )
        except Exception as exc:
            raise StoreUnavailable(f"S3 put {name}: {exc}") from exc
        stored = self.stat(key)
        if stored is None:
            raise StoreUnavailable(f"S3 put {name}: the object is not there after the upload")
        return stored

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except Exception as exc:
            if _is_not_found(exc):
                return None
            raise StoreUnavailable(f"S3 head {key}: {exc}") from exc
        return StoredObject(key, int(head["ContentLength"]))

    def open(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._object(key)}
        if length == 0:
            return iter(())
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            arguments["Range"] = f"bytes={start}-{end}"
        try:
            body = self.client.get_object(**arguments)["Body"]
        except Exception as exc:
            if _is_not_found(exc):
                raise RecordingMissing(key) from exc
            raise StoreUnavailable(f"S3 get {key}: {exc}") from exc
        return _stream_body(body)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except Exception as exc:
            if not _is_not_found(exc):
                raise StoreUnavailable(f"S3 delete {key}: {exc}") from exc


def _stream_body(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def _is_not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}
