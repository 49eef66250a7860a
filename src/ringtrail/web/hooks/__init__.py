"""Webhooks that telephony providers call: the generic signed webhook, Twilio, Zadarma, Binotel."""
