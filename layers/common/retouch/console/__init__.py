"""The console's people (issue #21): sign-up with e-mail verification and sign-in through the identity service
(Amazon Cognito), the accounts they make or join, their sessions, and who belongs to which account; and what they
manage for their account there.

    ports.py      what this package asks of the identity service and the table, with its values and failures
    sign_up.py    sign-up, verification (the account made or joined) and sign-in
    sessions.py   sessions: made at sign-in, resolved from the cookie, renewed while used, ended at sign-out
    csrf.py       which requests need the session's CSRF token and the console's own Origin
    members.py    the account's people: list, invite, remove
    limits.py     per-address and per-e-mail attempt limits on the auth routes
    keys.py       the account's API keys: listed, created (the secret shown once), revoked
    webhook_settings.py  the account's default webhook URL and signing secrets (each shown once), rotated
"""
