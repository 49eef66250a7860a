"""Project roles and what each may do: the one permission table every entrypoint consults."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's or API key's role within a project, strongest first."""

    OWNER = "owner"
    ADMIN = "admin"
    MARKETER = "marketer"
    SALES = "sales"
    VIEWER = "viewer"


class Permission(StrEnum):
    """Things a role may be allowed to do."""

    VIEW_REPORTS = "view_reports"
    VIEW_CALLS = "view_calls"
    SEE_CALLER_NUMBERS = "see_caller_numbers"
    MARK_CALLS = "mark_calls"
    MANAGE_TRACKING = "manage_tracking"
    MANAGE_MONEY = "manage_money"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_PROJECT = "manage_project"
    DELETE_PROJECT = "delete_project"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW_REPORTS, Permission.VIEW_CALLS}),
    Role.SALES: frozenset(
        {
            Permission.VIEW_REPORTS,
            Permission.VIEW_CALLS,
            Permission.SEE_CALLER_NUMBERS,
            Permission.MARK_CALLS,
        }
    ),
    Role.MARKETER: frozenset(
        {
            Permission.VIEW_REPORTS,
            Permission.VIEW_CALLS,
            Permission.SEE_CALLER_NUMBERS,
            Permission.MARK_CALLS,
            Permission.MANAGE_TRACKING,
            Permission.MANAGE_MONEY,
        }
    ),
}
_GRANTS[Role.ADMIN] = _GRANTS[Role.MARKETER] | {
    Permission.MANAGE_MEMBERS,
    Permission.MANAGE_PROJECT,
}
_GRANTS[Role.OWNER] = _GRANTS[Role.ADMIN] | {Permission.DELETE_PROJECT}

_RANK = {role: rank for rank, role in enumerate(reversed(list(Role)))}


def can(role: Role, permission: Permission) -> bool:
    """Whether `role` grants `permission`."""
    return permission in _GRANTS[role]


def outranks_or_equals(role: Role, other: Role) -> bool:
    """Whether `role` is at least as strong as `other` (nobody grants more than they hold)."""
    return _RANK[role] >= _RANK[other]
