"""An account's end users: their limits and usage (management.py) and their erasure (erasure.py). Their quota holds
are billing/end_user_quotas.py."""
