"""A local HTTP server speaking Yandex Metrica's offline calls upload.

`POST /management/v1/counter/{counterId}/offline_conversions/upload_calls?client_id_type=…`
with `Authorization: OAuth <token>` and a `multipart/form-data` body whose part `file` is
the calls CSV. The CSV is checked as Metrica documents it: a header row, one id column
matching `client_id_type` (`ClientId`, `UserId` or `Yclid`), `DateTime` in Unix seconds,
known column names, the same number of cells in every row. It answers `{"uploading": {id,
create_time, source_quantity, line_quantity, client_id_type, status, comment}}`, or
Metrica's error JSON (`errors[]` of `error_type` and `message`, `code`, `message`): 401 for a
bad token, 403 for a counter the token cannot reach, 400 for a bad file; `fail_next` makes
the next upload answer a chosen error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_stub import StubHandler, serve, stop_serving

ID_COLUMNS = {"CLIENT_ID": "ClientId", "USER_ID": "UserId", "YCLID": "Yclid"}
OTHER_COLUMNS = {
    "DateTime", "StaticCall", "Price", "Currency", "PhoneNumber", "TalkDuration",
    "HoldDuration", "CallMissed", "Tag", "FirstTimeCaller", "URL", "CallTrackerURL",
}  # fmt: skip


def metrica_error(status: int, error_type: str, message: str) -> dict[str, Any]:
    return {
        "errors": [{"error_type": error_type, "message": message}],
        "code": status,
        "message": message,
    }


@dataclass
class Upload:
    """One accepted upload: its query and the CSV rows (header first)."""

    counter_id: str
    query: dict[str, str]
    rows: list[list[str]]
    filename: str


@dataclass
class YandexStub:
    """The running stub: its token and counter, and every upload it accepted."""

    token: str = "y0_token-1"
    counter_id: str = "98765432"
    fail_next: tuple[int, str, str] | None = None  # (HTTP status, error_type, message)
    uploads: list[Upload] = field(default_factory=list)
    requests: int = 0
    base_url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> YandexStub:
        stub = self

        class Handler(StubHandler):
            json_content_type = "application/json; charset=utf-8"

            def do_POST(self) -> None:
                stub.requests += 1
                url = urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if (
                    len(parts) != 6
                    or parts[:3] != ["management", "v1", "counter"]
                    or parts[4:] != ["offline_conversions", "upload_calls"]
                ):
                    return self.send_json(404, metrica_error(404, "not_found", "Not found"))
                if self.headers.get("Authorization") != f"OAuth {stub.token}":
                    return self.send_json(
                        401, metrica_error(401, "invalid_token", "Invalid oauth_token")
                    )
                if parts[3] != stub.counter_id:
                    return self.send_json(
                        403, metrica_error(403, "access_denied", "Access is denied")
                    )
                if stub.fail_next is not None:
                    status, error_type, message = stub.fail_next
                    stub.fail_next = None
                    return self.send_json(status, metrica_error(status, error_type, message))
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                found = self._file(body)
                if found is None:
                    return self.send_json(
                        400, metrica_error(400, "invalid_parameter", "No file part 'file'")
                    )
                filename, text = found
                rows = list(csv.reader(io.StringIO(text)))
                problem = check(rows, query.get("client_id_type", "CLIENT_ID"))
                if problem is not None:
                    return self.send_json(400, metrica_error(400, "invalid_parameter", problem))
                upload = Upload(parts[3], query, rows, filename)
                stub.uploads.append(upload)
                self.send_json(
                    200,
                    {
                        "uploading": {
                            "id": len(stub.uploads),
                            "create_time": "2026-12-07T12:00:00+03:00",
                            "source_quantity": len(rows) - 1,
                            "line_quantity": len(rows) - 1,
                            "client_id_type": query.get("client_id_type", "CLIENT_ID"),
                            "status": "UPLOADED",
                            "comment": query.get("comment", ""),
                        }
                    },
                )

            def _file(self, body: bytes) -> tuple[str, str] | None:
                content_type = self.headers.get("Content-Type", "")
                if not content_type.startswith("multipart/form-data"):
                    return None
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {content_type}\r\n\r\n".encode() + body
                )
                for part in message.iter_parts():
                    if part.get_param("name", header="content-disposition") == "file":
                        payload = part.get_payload(decode=True)
                        assert isinstance(payload, bytes)
                        return str(part.get_filename() or ""), payload.decode("utf-8")
                return None

        def check(rows: list[list[str]], id_type: str) -> str | None:
            if id_type not in ID_COLUMNS:
                return f"Wrong client_id_type: {id_type}"
            if len(rows) < 2:
                return "The file has no calls"
            header = rows[0]
            if header[0] != ID_COLUMNS[id_type]:
                return f"The first column must be {ID_COLUMNS[id_type]}"
            unknown = [name for name in header[1:] if name not in OTHER_COLUMNS]
            if unknown or "DateTime" not in header:
                return f"Unknown columns {unknown} or no DateTime"
            at = header.index("DateTime")
            for row in rows[1:]:
                if len(row) != len(header):
                    return "A row has another number of cells than the header"
                if not row[0] or not row[at].isdigit():
                    return "Every call needs an id and DateTime in Unix seconds"
            return None

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)
