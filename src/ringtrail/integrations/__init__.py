"""Adapters that send conversions and leads out: ad platforms, analytics and CRMs.

`base` is the contract every destination keeps; `registry` finds a destination by its kind.
The delivery machinery (queueing, retries, the log) lives in `ringtrail.services.deliveries`.
"""
