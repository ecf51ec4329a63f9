"""Webhooks: signed job events, queued off the worker's path, delivered and retried by the webhook function."""
