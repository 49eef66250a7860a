"""A local HTTP server that speaks the part of Bitrix24's REST API Ringtrail uses.

Both connections: an incoming webhook (`POST /rest/<user>/<code>/<method>.json`, the code is
the secret) and an OAuth app (`POST /rest/<method>.json` with `auth=<access token>` in the
JSON body; `GET /oauth/token/?grant_type=refresh_token...` renews the pair). Answers are
Bitrix24's: `{"result": ..., "time": {...}}` or `{"error": ..., "error_description": ...}`
with its HTTP statuses (401 NO_AUTH_FOUND / expired_token, 400 WRONG_AUTH_TYPE for
telephony over a webhook, 503 QUERY_LIMIT_EXCEEDED). `fail_next` queues error answers;
`fail_method` fails the next call of one method.
Methods: crm.duplicate.findbycomm, crm.lead.add/get/update, crm.contact.add/get,
crm.deal.add/get/list/update, crm.timeline.comment.add, telephony.externalcall.register/
finish/attachRecord. Every call is kept in `calls` as (method, params).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_stub import StubHandler, serve, stop_serving

TELEPHONY = (
    "telephony.externalcall.register",
    "telephony.externalcall.finish",
    "telephony.externalcall.attachrecord",
)
DEAL_SEMANTICS = {"WON": "S", "LOSE": "F", "APOLOGY": "F"}


class Refusal(Exception):
    def __init__(self, status: int, error: str, description: str = "") -> None:
        self.status, self.error, self.description = status, error, description


@dataclass
class Bitrix24Stub:
    """The running stub: its portal's data and what it was asked."""

    user_id: int = 1
    webhook_code: str = "s3cr3tc0de"
    client_id: str = "local.app.1"
    client_secret: str = "app-secret"
    access_token: str = "access-1"
    refresh_token: str = "refresh-1"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    deals: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    external_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[tuple[int, str]] = field(default_factory=list)
    # The next call of a method starting with the key answers this error (once).
    fail_method: dict[str, tuple[int, str]] = field(default_factory=dict)
    base_url: str = ""
    _next_id: int = 100
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/rest/{self.user_id}/{self.webhook_code}/"

    @property
    def client_endpoint(self) -> str:
        return f"{self.base_url}/rest/"

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- the REST methods ------------------------------------------------------------------

    def _phones(self, item: dict[str, Any]) -> set[str]:
        return {entry["VALUE"] for entry in item.get("PHONE", []) if isinstance(entry, dict)}

    def _method(self, method: str, params: dict[str, Any], is_app: bool) -> Any:
        if method in TELEPHONY and not is_app:
            raise Refusal(400, "WRONG_AUTH_TYPE", "Current authorization type is denied")
        fields = params.get("fields") or {}
        if method == "crm.duplicate.findbycomm":
            values = set(params["values"])
            wanted = params.get("entity_type")
            found: dict[str, list[int]] = {}
            for kind, items in (("LEAD", self.leads), ("CONTACT", self.contacts)):
                if wanted and wanted != kind:
                    continue
                ids = [i for i, item in items.items() if self._phones(item) & values]
                if ids:
                    found[kind] = ids
            return found or []
        if method in ("crm.lead.add", "crm.contact.add", "crm.deal.add"):
            new = self.new_id()
            item = {"ID": str(new), **fields}
            if method == "crm.lead.add":
                item.setdefault("STATUS_ID", "NEW")
                item["STATUS_SEMANTIC_ID"] = "P"
                self.leads[new] = item
            elif method == "crm.contact.add":
                self.contacts[new] = item
            else:
                item.setdefault("STAGE_ID", "NEW")
                item["STAGE_SEMANTIC_ID"] = "P"
                item["CLOSED"] = "N"
                item["OPPORTUNITY"] = f"{float(item.get('OPPORTUNITY') or 0):.2f}"
                self.deals[new] = item
            return new
        if method in ("crm.lead.get", "crm.contact.get", "crm.deal.get"):
            tables = {"crm.lead.get": self.leads, "crm.contact.get": self.contacts}
            entity = tables.get(method, self.deals).get(int(params["id"]))
            if entity is None:
                raise Refusal(400, "", "Not found")
            return entity
        if method in ("crm.lead.update", "crm.deal.update"):
            table = self.leads if method == "crm.lead.update" else self.deals
            table[int(params["id"])].update(fields)
            return True
        if method == "crm.deal.list":
            wanted = params.get("filter", {})
            rows = [
                {"ID": deal["ID"]}
                for _id, deal in sorted(self.deals.items(), reverse=True)
                if str(deal.get("CONTACT_ID")) == str(wanted.get("CONTACT_ID"))
                and deal.get("CLOSED", "N") == wanted.get("CLOSED", deal.get("CLOSED"))
            ]
            return rows
        if method == "crm.timeline.comment.add":
            self.comments.append(fields)
            return self.new_id()
        if method == "telephony.externalcall.register":
            call_id = f"externalCall.{len(self.external_calls) + 1}"
            self.external_calls[call_id] = {"register": params}
            return {
                "CALL_ID": call_id,
                "CRM_CREATED_LEAD": None,
                "CRM_ENTITY_TYPE": params.get("CRM_ENTITY_TYPE"),
                "CRM_ENTITY_ID": params.get("CRM_ENTITY_ID"),
            }
        if method == "telephony.externalcall.finish":
            self.external_calls[params["CALL_ID"]]["finish"] = params
            return {"CALL_ID": params["CALL_ID"], "CALL_DURATION": params.get("DURATION")}
        if method == "telephony.externalcall.attachrecord":
            self.external_calls[params["CALL_ID"]]["record"] = params
            return {"FILE_ID": self.new_id()}
        raise Refusal(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")

    def set_deal(self, deal_id: int, **fields: Any) -> None:
        """Change a deal as a salesperson would (stage, amount, close date)."""
        deal = self.deals[deal_id]
        deal.update(fields)
        stage = str(deal.get("STAGE_ID", "NEW")).split(":")[-1]
        deal["STAGE_SEMANTIC_ID"] = DEAL_SEMANTICS.get(stage, "P")
        deal["CLOSED"] = "Y" if deal["STAGE_SEMANTIC_ID"] != "P" else "N"

    # -- HTTP ------------------------------------------------------------------------------

    def start(self) -> Bitrix24Stub:
        stub = self

        class Handler(StubHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.rstrip("/") != "/oauth/token":
                    return self.send_json(404, {"error": "NOT_FOUND"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with stub._lock:
                    stub.calls.append(("oauth.token", query))
                    if (
                        query.get("grant_type") != "refresh_token"
                        or query.get("client_id") != stub.client_id
                        or query.get("client_secret") != stub.client_secret
                        or query.get("refresh_token") != stub.refresh_token
                    ):
                        return self.send_json(
                            400, {"error": "invalid_grant", "error_description": "Invalid grant"}
                        )
                    number = int(stub.access_token.rsplit("-", 1)[1]) + 1
                    stub.access_token = f"access-{number}"
                    stub.refresh_token = f"refresh-{number}"
                    return self.send_json(
                        200,
                        {
                            "access_token": stub.access_token,
                            "refresh_token": stub.refresh_token,
                            "expires_in": 3600,
                            "client_endpoint": stub.client_endpoint,
                        },
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = json.loads(self.rfile.read(length) or b"{}")
                parts = urlsplit(self.path).path.strip("/").split("/")
                if len(parts) == 4 and parts[0] == "rest":
                    is_app = False
                    authorised = parts[1] == str(stub.user_id) and parts[2] == stub.webhook_code
                    error = "NO_AUTH_FOUND"
                elif len(parts) == 2 and parts[0] == "rest":
                    is_app = True
                    token = params.pop("auth", None)
                    authorised = token == stub.access_token
                    error = (
                        "expired_token"
                        if token and token.startswith("access-")
                        else ("NO_AUTH_FOUND")
                    )
                else:
                    return self.send_json(404, {"error": "NOT_FOUND"})
                method = parts[-1].removesuffix(".json").lower()
                with stub._lock:
                    stub.calls.append((method, params))
                    if not authorised:
                        return self.send_json(
                            401, {"error": error, "error_description": "Unable to authorize"}
                        )
                    failing = next((k for k in stub.fail_method if method.startswith(k)), None)
                    if stub.fail_next or failing:
                        status, code = (
                            stub.fail_method.pop(failing) if failing else stub.fail_next.pop(0)
                        )
                        return self.send_json(status, {"error": code, "error_description": code})
                    try:
                        result = stub._method(method, params, is_app)
                    except Refusal as exc:
                        body = {"error": exc.error, "error_description": exc.description}
                        return self.send_json(exc.status, body)
                    return self.send_json(200, {"result": result, "time": {"duration": 0.01}})

        self._server, self.base_url = serve(Handler)
        return self

    def stop(self) -> None:
        stop_serving(self._server)
