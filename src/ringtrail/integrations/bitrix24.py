"""Bitrix24 out: a call or lead becomes a Bitrix24 lead (or deal), and the call shows on its
timeline.

Per event (docs/integrations.md):

- the lead or deal: the one Ringtrail got back for this call's earlier event
  (`facts.extra["previous_responses"]`), else an open one found by the caller's phone
  (`crm.duplicate.findbycomm`, then `crm.lead.get` / `crm.deal.list`: a lead in progress or
  a deal not closed), else a new one (`crm.lead.add`; for deals `crm.contact.add` when the
  phone has no contact, then `crm.deal.add`) with the source, UTM, landing page, the
  analytics ids and a signed recording link. `ORIGINATOR_ID`/`ORIGIN_ID` name the Ringtrail
  call or lead, so a deal coming back (web/hooks/bitrix24.py) finds its call;
- a later change (`call.updated`: recording, tags, target) rewrites the comments of a lead or
  deal Ringtrail created (`crm.lead.update`), or adds a timeline comment to one it found;
- telephony, with an app (OAuth) connection: `telephony.externalcall.register` at the start,
  `.finish` at the end and `.attachRecord` with the recording link. Bitrix24 refuses these
  to a webhook, so with a webhook the recording link is in the comments only.

A retry repeats the whole exchange; finding the lead by phone first makes that safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ringtrail.domain import crm_events
from ringtrail.integrations.base import (
    Conversion,
    ConversionFacts,
    OnChange,
    Prepared,
    SendResult,
    Skip,
)
from ringtrail.integrations.bitrix24_api import (
    DEFAULT_OAUTH_SERVER,
    Bitrix24Api,
    Bitrix24Error,
    Connection,
    MemoryTokenStore,
    OAuthTokens,
    TokenStore,
)
from ringtrail.integrations.crm_webhook import check_url, mask_email, mask_link, mask_phone

ORIGINATOR = "ringtrail"
WEBHOOK_PATH = re.compile(r"^/rest/\d+/[^/]+/?$")
SOURCES = {"call": "CALL", "form": "WEBFORM", "callback": "CALLBACK"}
KIND_WORDS = {"call": "Call", "form": "Form", "callback": "Callback request"}
UTM_FIELDS = ("source", "medium", "campaign", "content", "term")
KNOWN_KEYS = (
    "entity_type",
    "entity_id",
    "entity_created",
    "contact_id",
    "call_id",
    "call_finished",
)
MAX_FOUND_CHECKED = 3  # newest leads of a phone looked at for one still in progress


class Bitrix24Config(BaseModel):
    """A portal connection (webhook or OAuth app) and what a call creates there."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    connection: Literal["webhook", "oauth"] = "webhook"
    webhook_url: str | None = Field(
        default=None,
        max_length=500,
        description="Incoming webhook URL: https://<portal>/rest/<user>/<code>/",
    )
    client_endpoint: str | None = Field(
        default=None, max_length=500, description="The app's REST endpoint: https://<portal>/rest/"
    )
    client_id: str | None = Field(default=None, max_length=200)
    client_secret: str | None = Field(default=None, max_length=200)
    access_token: str | None = Field(default=None, max_length=500)
    refresh_token: str | None = Field(default=None, max_length=500)
    oauth_server: str = Field(default=DEFAULT_OAUTH_SERVER, max_length=500)
    application_token: str | None = Field(
        default=None,
        max_length=200,
        description="The token Bitrix24 shows for its outgoing webhook (deal events back).",
    )
    create: Literal["lead", "deal"] = "lead"
    responsible_user_id: int = Field(default=1, ge=1)
    deal_category_id: int = Field(default=0, ge=0)
    call_source_id: str = Field(default="CALL", min_length=1, max_length=50)
    register_calls: bool = True

    @field_validator("webhook_url", "client_endpoint", "oauth_server")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return check_url(value) if value else value

    @model_validator(mode="after")
    def _connection(self) -> Bitrix24Config:
        if self.connection == "webhook":
            if not self.webhook_url:
                raise ValueError("enter the incoming webhook URL Bitrix24 showed")
            if not WEBHOOK_PATH.match(urlsplit(self.webhook_url).path):
                raise ValueError("the webhook URL looks like https://<portal>/rest/<user>/<code>/")
        else:
            missing = [
                name
                for name in (
                    "client_endpoint",
                    "client_id",
                    "client_secret",
                    "access_token",
                    "refresh_token",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError("an app connection needs " + ", ".join(missing))
        return self


def connection_of(config: Bitrix24Config) -> Connection:
    if config.connection == "webhook":
        return Connection(webhook_url=config.webhook_url)
    tokens = OAuthTokens(config.access_token or "", config.refresh_token or "")
    return Connection(
        client_endpoint=config.client_endpoint,
        client_id=config.client_id,
        client_secret=config.client_secret,
        tokens=tokens,
        oauth_server=config.oauth_server,
    )


def previous(extra: Mapping[str, Any]) -> dict[str, Any]:
    """What earlier accepted deliveries of this call got back, merged (later wins)."""
    merged: dict[str, Any] = {}
    for answer in crm_events.in_order(extra.get("previous_responses")):
        merged.update({k: v for k, v in answer.items() if k in KNOWN_KEYS and v is not None})
    return merged


def _describe(facts: ConversionFacts) -> str:
    parts = [facts.source or "(direct)", facts.medium or "(none)"]
    if facts.campaign:
        parts.append(facts.campaign)
    return " / ".join(parts)


def _utm(facts: ConversionFacts) -> dict[str, str]:
    utm = dict(facts.visit.utm) if facts.visit is not None else {}
    fields = {f"UTM_{name.upper()}": utm.get(f"utm_{name}", "") for name in UTM_FIELDS}
    # No UTM tags on the landing page: the source Ringtrail attributed is the best there is.
    fallback = {"UTM_SOURCE": facts.source, "UTM_MEDIUM": facts.medium}
    fallback["UTM_CAMPAIGN"] = facts.campaign
    for name, value in fallback.items():
        if not fields[name] and value:
            fields[name] = value
    return {name: value for name, value in fields.items() if value}


def comments(facts: ConversionFacts, kind: str) -> str:
    """The lead's comments: where the contact came from and how the call went."""
    word = KIND_WORDS.get(facts.lead_kind or facts.subject_kind, "Contact")
    lines = [
        f"{word} #{facts.subject_id} from Ringtrail, {facts.occurred_at:%Y-%m-%d %H:%M} UTC",
        f"Source: {_describe(facts)}",
    ]
    if facts.landing_page:
        lines.append(f"Landing page: {facts.landing_page}")
    if facts.subject_kind == "call" and kind != "call.started":
        talk = f", talked {facts.talk_seconds} s" if facts.talk_seconds else ""
        lines.append(f"Answered: {'yes' if facts.answered else 'no'}{talk}")
    if facts.recording_url:
        lines.append(f"Recording: {facts.recording_url}")
    if facts.tags:
        lines.append("Tags: " + ", ".join(sorted(facts.tags)))
    if facts.is_target is not None:
        lines.append(f"Target: {'yes' if facts.is_target else 'no'}")
    ids = crm_events.event_body(facts, kind, 0, "")["analytics_ids"]
    if ids:
        lines.append("Analytics ids: " + ", ".join(f"{k}={v}" for k, v in ids.items()))
    return "\n".join(lines)


def entity_fields(facts: ConversionFacts, config: Bitrix24Config, kind: str) -> dict[str, Any]:
    lead_kind = facts.lead_kind or ("call" if facts.subject_kind == "call" else "form")
    source_id = config.call_source_id if lead_kind == "call" else SOURCES.get(lead_kind, "OTHER")
    word = KIND_WORDS.get(lead_kind, "Contact")
    who = facts.name or facts.phone_e164 or facts.email or "unknown"
    description = f"Ringtrail: {_describe(facts)}"
    if facts.landing_page:
        description += f"; landing page {facts.landing_page}"
    fields: dict[str, Any] = {
        "TITLE": f"{word} from {who} ({_describe(facts)})",
        "SOURCE_ID": source_id,
        "SOURCE_DESCRIPTION": description[:2000],
        "COMMENTS": comments(facts, kind),
        "ASSIGNED_BY_ID": config.responsible_user_id,
        "ORIGINATOR_ID": ORIGINATOR,
        "ORIGIN_ID": f"{facts.subject_kind}:{facts.subject_id}",
        **_utm(facts),
    }
    if facts.name:
        fields["NAME"] = facts.name
    if facts.phone_e164:
        fields["PHONE"] = [{"VALUE": facts.phone_e164, "VALUE_TYPE": "WORK"}]
    if facts.email:
        fields["EMAIL"] = [{"VALUE": facts.email, "VALUE_TYPE": "WORK"}]
    if config.create == "deal":
        fields["CATEGORY_ID"] = config.deal_category_id
        fields["CURRENCY_ID"] = facts.currency
        if facts.deal_value is not None:
            fields["OPPORTUNITY"] = str(facts.deal_value)
    return fields


def _telephony(facts: ConversionFacts, config: Bitrix24Config, kind: str) -> dict[str, Any]:
    if facts.subject_kind != "call" or config.connection != "oauth" or not config.register_calls:
        return {}
    register: dict[str, Any] = {
        "USER_ID": config.responsible_user_id,
        "PHONE_NUMBER": facts.phone_e164,
        "TYPE": 2,  # incoming
        "CALL_START_DATE": facts.occurred_at.isoformat(),
        "CRM_CREATE": 0,
        "SHOW": 0,
        "EXTERNAL_CALL_ID": f"ringtrail-{facts.project_id}-{facts.subject_id}",
    }
    if facts.extra.get("tracking_number"):
        register["LINE_NUMBER"] = str(facts.extra["tracking_number"])
    plan: dict[str, Any] = {"register": register}
    if kind != "call.started":
        plan["finish"] = {
            "USER_ID": config.responsible_user_id,
            "DURATION": facts.talk_seconds or 0,
            "STATUS_CODE": "200" if facts.answered else "304",
        }
        if facts.recording_url:
            plan["record"] = {
                "FILENAME": f"ringtrail-call-{facts.subject_id}.mp3",
                "RECORD_URL": facts.recording_url,
            }
    return plan


@dataclass
class _Exchange:
    """One delivery's calls to Bitrix24 and what they established."""

    api: Bitrix24Api
    config: Bitrix24Config
    payload: dict[str, Any]
    done: dict[str, Any]

    @property
    def lower(self) -> str:
        return str(self.done["entity_type"]).lower()

    def find_open(self) -> bool:
        """Find a lead in progress or a deal not closed with the caller's phone (or e-mail)."""
        kind, value = (
            ("PHONE", self.payload["phone"])
            if self.payload["phone"]
            else (
                "EMAIL",
                self.payload["email"],
            )
        )
        found = self.api.call("crm.duplicate.findbycomm", {"type": kind, "values": [value]})
        found = found if isinstance(found, Mapping) else {}
        leads = sorted((int(i) for i in found.get("LEAD", ())), reverse=True)
        for lead_id in leads[:MAX_FOUND_CHECKED]:
            lead = self.api.call("crm.lead.get", {"id": lead_id}) or {}
            if lead.get("STATUS_SEMANTIC_ID", "P") == "P" and lead.get("STATUS_ID") not in (
                "CONVERTED",
                "JUNK",
            ):
                self.done.update(entity_type="LEAD", entity_id=lead_id, entity_created=False)
                return True
        contacts = sorted((int(i) for i in found.get("CONTACT", ())), reverse=True)
        if contacts:
            self.done["contact_id"] = contacts[0]
        for contact_id in contacts[:MAX_FOUND_CHECKED]:
            deals = self.api.call(
                "crm.deal.list",
                {
                    "filter": {"CONTACT_ID": contact_id, "CLOSED": "N"},
                    "select": ["ID"],
                    "order": {"ID": "DESC"},
                },
            )
            if deals:
                deal_id = int(deals[0]["ID"])
                self.done.update(
                    entity_type="DEAL",
                    entity_id=deal_id,
                    entity_created=False,
                    contact_id=contact_id,
                )
                return True
        return False

    def create(self) -> None:
        fields = dict(self.payload["fields"])
        params = {"REGISTER_SONET_EVENT": "Y"}
        if self.config.create == "lead":
            new_id = self.api.call("crm.lead.add", {"fields": fields, "params": params})
            self.done.update(entity_type="LEAD", entity_id=int(new_id), entity_created=True)
            return
        contact_id = self.done.get("contact_id")
        if contact_id is None:
            contact = {k: fields[k] for k in ("NAME", "PHONE", "EMAIL") if k in fields}
            contact.setdefault("NAME", fields["TITLE"])
            contact.update(SOURCE_ID=fields["SOURCE_ID"], ASSIGNED_BY_ID=fields["ASSIGNED_BY_ID"])
            contact_id = int(self.api.call("crm.contact.add", {"fields": contact}))
            self.done["contact_id"] = contact_id
        deal = {k: v for k, v in fields.items() if k not in ("PHONE", "EMAIL", "NAME")}
        deal["CONTACT_ID"] = contact_id
        new_id = self.api.call("crm.deal.add", {"fields": deal, "params": params})
        self.done.update(entity_type="DEAL", entity_id=int(new_id), entity_created=True)

    def ensure_entity(self) -> bool:
        """The lead or deal of this call; True when it was created just now."""
        if self.done.get("entity_id"):
            return False
        if self.find_open():
            return False
        self.create()
        return True

    def note(self) -> None:
        """Say what is new: rewrite the comments of our own lead or deal, else comment."""
        text = self.payload["fields"]["COMMENTS"]
        if self.done.get("entity_created"):
            self.api.call(
                f"crm.{self.lower}.update",
                {"id": self.done["entity_id"], "fields": self.payload["update_fields"]},
            )
            return
        comment = {"ENTITY_ID": self.done["entity_id"], "ENTITY_TYPE": self.lower, "COMMENT": text}
        self.api.call("crm.timeline.comment.add", {"fields": comment})

    def telephony(self) -> None:
        plan = self.payload.get("telephony") or {}
        if not plan:
            return
        try:
            if not self.done.get("call_id"):
                register = dict(plan["register"])
                if self.done["entity_type"] == "LEAD":
                    register.update(CRM_ENTITY_TYPE="LEAD", CRM_ENTITY_ID=self.done["entity_id"])
                elif self.done.get("contact_id"):
                    register.update(
                        CRM_ENTITY_TYPE="CONTACT", CRM_ENTITY_ID=self.done["contact_id"]
                    )
                answer = self.api.call("telephony.externalcall.register", register)
                self.done["call_id"] = str(answer["CALL_ID"])
            if "finish" in plan and not self.done.get("call_finished"):
                finish = {"CALL_ID": self.done["call_id"], **plan["finish"]}
                self.api.call("telephony.externalcall.finish", finish)
                self.done["call_finished"] = True
            if "record" in plan:
                record = {"CALL_ID": self.done["call_id"], **plan["record"]}
                self.api.call("telephony.externalCall.attachRecord", record)
                self.done["record_attached"] = True
        except Bitrix24Error as exc:
            if exc.retry:
                raise
            # The lead is there; the timeline entry is a nicety a refusal must not undo.
            self.done["telephony"] = f"not registered: {exc.words}"


class Bitrix24Destination:
    """Leads or deals in a Bitrix24 portal, with the call on their timeline."""

    kind: ClassVar[str] = "bitrix24"
    label: ClassVar[str] = "Bitrix24"
    config_model: ClassVar[type[BaseModel]] = Bitrix24Config
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"webhook_url", "client_secret", "access_token", "refresh_token", "application_token"}
    )
    on_change: ClassVar[OnChange] = "update"
    events: ClassVar[frozenset[str]] = crm_events.DESTINATION_EVENTS

    def __init__(self, token_store: TokenStore | None = None) -> None:
        self.token_store: TokenStore = token_store or MemoryTokenStore()

    def prepare(
        self, facts: ConversionFacts, conversion: Conversion, config: BaseModel, now: datetime
    ) -> Prepared | Skip:
        assert isinstance(config, Bitrix24Config)
        try:
            kind = crm_events.event_kind(conversion.event)
        except crm_events.UnknownEvent:
            return Skip("not_a_crm_event", f"Bitrix24 gets no {conversion.event!r} event")
        if kind == "lead.created" and (facts.lead_kind == "call" or facts.subject_kind == "call"):
            return Skip("call_lead", "a call's lead reaches Bitrix24 with the call's own events")
        if not facts.phone_e164 and not facts.email:
            return Skip(
                "no_contact",
                "the caller's number is hidden and there is no e-mail: Bitrix24 needs one "
                "to find or create the lead",
            )
        fields = entity_fields(facts, config, kind)
        payload: dict[str, Any] = {
            "event": kind,
            "subject": {"kind": facts.subject_kind, "id": facts.subject_id},
            "phone": facts.phone_e164,
            "email": facts.email,
            "fields": fields,
            "update_fields": {
                name: fields[name] for name in ("COMMENTS", "OPPORTUNITY") if name in fields
            },
            "known": previous(facts.extra),
            "telephony": _telephony(facts, config, kind),
        }
        key = crm_events.delivery_id(
            facts.project_id, facts.subject_kind, facts.subject_id, conversion.event
        )
        return Prepared(payload, key)

    def api(self, client: httpx.Client, config: Bitrix24Config) -> Bitrix24Api:
        return Bitrix24Api(client, connection_of(config), self.token_store)

    def send(self, client: httpx.Client, config: BaseModel, prepared: Prepared) -> SendResult:
        assert isinstance(config, Bitrix24Config)
        payload = prepared.payload
        exchange = _Exchange(self.api(client, config), config, payload, dict(payload["known"]))
        try:
            created = exchange.ensure_entity()
            if not created and payload["event"] != "call.started":
                exchange.note()
            exchange.telephony()
        except Bitrix24Error as exc:
            answer = {**exchange.done, "error": exc.code}
            if exc.retry:
                return SendResult("retry", exc.status_code, answer, exc.words)
            return SendResult("rejected", exc.status_code, answer, exc.words)
        return SendResult("accepted", 200, exchange.done)

    def masked(self, payload: dict[str, Any], config: BaseModel) -> dict[str, Any]:
        hidden: dict[str, str] = {}
        phone, email = payload.get("phone"), payload.get("email")
        if isinstance(phone, str) and phone:
            hidden[phone] = str(mask_phone(phone))
        if isinstance(email, str) and email:
            hidden[email] = str(mask_email(email))
        name = (payload.get("fields") or {}).get("NAME")
        if isinstance(name, str) and name:
            hidden[name] = "***"
        for plan in (payload.get("telephony") or {}).values():
            link = plan.get("RECORD_URL") if isinstance(plan, Mapping) else None
            if isinstance(link, str) and link:
                hidden[link] = str(mask_link(link))
        text = json.dumps(payload, ensure_ascii=False)
        for found in re.findall(r"https?://[^\s\"\\]*/recordings/[^\s\"\\]+", text):
            hidden.setdefault(found, str(mask_link(found)))
        for value in sorted(hidden, key=len, reverse=True):
            text = text.replace(json.dumps(value)[1:-1], json.dumps(hidden[value])[1:-1])
        shown: dict[str, Any] = json.loads(text)
        return shown


DESTINATION = Bitrix24Destination()
