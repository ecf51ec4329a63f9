"""Stored records of the console's people (issue #21): sessions, account members and invitations. Keys and items are
built in retouch/data/console_*.py only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from retouch.models.common import AccountId

ConsoleRole = Literal["member", "operator"]  # within the deployment: operators are the user pool's `operators` group
AccountRole = Literal["owner", "member"]  # within an account: who made it, and who joined it by invitation
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class ConsoleSessionRecord(BaseModel):
    """A signed-in browser. Stored under the SHA-256 of its cookie's secret, never the secret itself."""

    model_config = ConfigDict(frozen=True)

    session_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    account_id: AccountId
    user_sub: str = Field(min_length=1)
    email: Email
    role: ConsoleRole
    csrf_token: str = Field(min_length=32)
    created_at: int  # epoch seconds
    last_seen_at: int
    expires_at: int  # the earlier of the absolute and the idle end; also the item's TTL


class MemberRecord(BaseModel):
    """A person's place in one account (every console user belongs to exactly one)."""

    model_config = ConfigDict(frozen=True)

    user_sub: str = Field(min_length=1)
    account_id: AccountId
    email: Email
    account_role: AccountRole
    joined_at: int


class InviteRecord(BaseModel):
    """An owner's invitation: whoever verifies this e-mail next joins the account instead of making one."""

    model_config = ConfigDict(frozen=True)

    email: Email
    account_id: AccountId
    invited_by: str  # the inviting owner's user sub
    created_at: int
    expires_at: int  # TTL
