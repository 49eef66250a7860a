"""Builds the recording store the settings ask for: a local directory, or an S3 bucket."""

from __future__ import annotations

from ringtrail.recordings.storage import (
    LocalRecordingStore,
    RecordingStore,
    S3RecordingStore,
    StoreUnavailable,
)
from ringtrail.settings import Settings


def make_store(settings: Settings) -> RecordingStore:
    """The store for `RINGTRAIL_RECORDINGS_STORAGE` (`local` or `s3`)."""
    if settings.recordings_storage == "s3":
        if not settings.s3_bucket:
            raise StoreUnavailable("RINGTRAIL_RECORDINGS_STORAGE=s3 needs RINGTRAIL_S3_BUCKET")
        return S3RecordingStore.connect(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    root = settings.recordings_dir or settings.data_dir / "recordings"
    return LocalRecordingStore(root.expanduser())
