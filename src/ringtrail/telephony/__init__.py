"""Telephony adapters: each provider's webhook or SIP event format turned into `CallEvent`s.

One module per provider. Parsers take plain mappings and bytes (never a web framework's
request) and return normalised events from `ringtrail.domain.calls`, or raise
`InvalidPayload` with a reason the webhook sends back.
"""
