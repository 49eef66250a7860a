"""The feature scripts a project's pages load, and what each is told in the visit answer.

`/t.js` stays the same small script for every site. A project that enables a feature in
`Project.extra` gets that feature's script named in the visit answer (`scripts`, paths
relative to the API base, e.g. `f.js`), and `/t.js` loads only those. Each feature may add
its own client settings under its name (`features`), which `/t.js` hands over unchanged in
`window.ringtrail.data` (docs/tracking.md, "Feature scripts").

- forms (`extra["forms"]`, domain.form_fields.FormPolicy): `f.js`, told the selector and
  the allowed fields;
- the callback widget (`extra["callback_widget"]`): `w.js`;
- allocation on intent (`extra["number_allocation"] == "intent"`): `i.js`, named only in an
  answer that shows the pool's default while it waits for intent (services.visits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ringtrail.domain.form_fields import FormPolicy

FORMS_SCRIPT = "f.js"
WIDGET_SCRIPT = "w.js"
INTENT_SCRIPT = "i.js"


@dataclass(frozen=True)
class FeatureScripts:
    """The scripts a project's pages load and the client settings each is given."""

    scripts: tuple[str, ...] = ()
    features: Mapping[str, Any] = field(default_factory=dict)


def feature_scripts(extra: Mapping[str, Any] | None) -> FeatureScripts:
    """The feature scripts enabled in a project's `extra`."""
    scripts: list[str] = []
    features: dict[str, Any] = {}
    forms = FormPolicy.from_extra(extra)
    if forms.enabled:
        scripts.append(FORMS_SCRIPT)
        features["forms"] = {"selector": forms.selector, "fields": list(forms.allowed_fields)}
    widget = (extra or {}).get("callback_widget")
    if isinstance(widget, Mapping) and widget.get("enabled"):
        scripts.append(WIDGET_SCRIPT)
    return FeatureScripts(tuple(scripts), features)


def with_intent_script(features: FeatureScripts, originals: Sequence[str]) -> FeatureScripts:
    """`features` plus the intent script `i.js`, told the page's own numbers (`intent.numbers`)
    so it finds them on the page when the pool has no default number to show instead."""
    settings = {**features.features, "intent": {"numbers": list(originals)}}
    return FeatureScripts((*features.scripts, INTENT_SCRIPT), settings)
