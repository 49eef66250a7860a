"""Durable deliveries: conversions and CRM events queued per destination, sent by the jobs
runner with retries, in order per call, each once (see docs/integrations.md)."""
