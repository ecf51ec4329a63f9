"""The console's auth and people routes: request bodies and responses (issue #21)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from retouch.models.console import AccountRole, ConsoleRole, ConsoleSessionRecord, Email

# Cognito's limits: a password of at most 256 characters; the pool's policy decides the rest (invalid_password).
Password = Annotated[str, Field(min_length=1, max_length=256)]
Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The 6-digit code e-mailed at sign-up")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignUpRequest(_Request):
    email: Email
    password: Password
    account_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class VerifyRequest(_Request):
    email: Email
    code: Code
    password: Password  # the one chosen at sign-up: see console/sign_up.py verify


class EmailRequest(_Request):
    email: Email


class SignInRequest(_Request):
    email: Email
    password: Password


class InviteRequest(_Request):
    email: Email


class SignUpView(BaseModel):
    status: Literal["verification_sent"] = "verification_sent"
    email: str


class ResendView(BaseModel):
    status: Literal["verification_sent"] = "verification_sent"


class ConsoleUserView(BaseModel):
    id: str  # the person's id (Cognito's sub)
    email: str
    role: ConsoleRole


class ConsoleAccountView(BaseModel):
    id: str
    name: str


class SessionView(BaseModel):
    user: ConsoleUserView
    account: ConsoleAccountView
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE")

    @classmethod
    def of(cls, session: ConsoleSessionRecord, account_name: str) -> SessionView:
        return cls(user=ConsoleUserView(id=session.user_sub, email=session.email, role=session.role),
                   account=ConsoleAccountView(id=session.account_id, name=account_name),
                   csrf_token=session.csrf_token)


class MemberView(BaseModel):
    id: str
    email: str
    account_role: AccountRole
    joined_at: int


class InvitationView(BaseModel):
    email: str
    invited_by: str
    created_at: int
    expires_at: int


class MemberList(BaseModel):
    data: list[MemberView]
    invitations: list[InvitationView]
