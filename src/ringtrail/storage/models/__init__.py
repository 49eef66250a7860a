"""Every table, importable from one place (Alembic and tests read `Base.metadata` here)."""

from ringtrail.storage.models.accounts import (
    ApiKey,
    Membership,
    Organization,
    Project,
    User,
    UserSession,
)
from ringtrail.storage.models.audit import AuditEntry
from ringtrail.storage.models.base import Base
from ringtrail.storage.models.callback_requests import CallbackRequest
from ringtrail.storage.models.calls import (
    Call,
    CallComment,
    CallEvent,
    CallScore,
    CallTag,
    Lead,
    Recording,
    Tag,
)
from ringtrail.storage.models.deliveries import IntegrationDestination, OutboundDelivery
from ringtrail.storage.models.money import AdCost, Deal
from ringtrail.storage.models.pool_state import PoolOverflow, PoolSlot
from ringtrail.storage.models.quality_rules import CallTagRemoval, QualityRule
from ringtrail.storage.models.refusals import TrackingRefusal
from ringtrail.storage.models.rollups import (
    CallMonthRollup,
    CallRollup,
    CallSourceRollup,
    LeadRollup,
    MoneyRollup,
    RollupDay,
    RollupDirty,
    RollupMonth,
    VisitRollup,
    VisitRollupDay,
    VisitSourceRollup,
)
from ringtrail.storage.models.scoring import ScoringModel
from ringtrail.storage.models.telephony import TelephonyAccount
from ringtrail.storage.models.tracking import NumberLease, Pool, SourceRule, TrackingNumber
from ringtrail.storage.models.transcripts import CallTranscript
from ringtrail.storage.models.visits import Visit, Visitor
from ringtrail.storage.models.webhook_refusals import WebhookRefusal

__all__ = [
    "AdCost",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Call",
    "CallComment",
    "CallEvent",
    "CallMonthRollup",
    "CallRollup",
    "CallScore",
    "CallSourceRollup",
    "CallTag",
    "CallTagRemoval",
    "CallTranscript",
    "CallbackRequest",
    "Deal",
    "IntegrationDestination",
    "Lead",
    "LeadRollup",
    "Membership",
    "MoneyRollup",
    "NumberLease",
    "Organization",
    "OutboundDelivery",
    "Pool",
    "PoolOverflow",
    "PoolSlot",
    "Project",
    "QualityRule",
    "Recording",
    "RollupDay",
    "RollupDirty",
    "RollupMonth",
    "ScoringModel",
    "SourceRule",
    "Tag",
    "TelephonyAccount",
    "TrackingNumber",
    "TrackingRefusal",
    "User",
    "UserSession",
    "Visit",
    "VisitRollup",
    "VisitRollupDay",
    "VisitSourceRollup",
    "Visitor",
    "WebhookRefusal",
]
