"""Retouch: domain, data access and provider adapters shared by every Lambda function."""
