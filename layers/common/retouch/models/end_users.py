"""End users of an account (an app backend's own users, OpenAI's `user`): the id type, their limits, their stored
quota item, and the views clients see. The quota arithmetic is billing/end_user_quotas.py; the item, data/end_users.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from retouch.models.common import printable

MAX_END_USER_CHARS = 128
END_USER_HEADER = "x-end-user"


# OpenAI's `user`: the app's own identifier for whom a request is made (1-128 printable characters).
EndUserId = Annotated[str, Field(min_length=1, max_length=MAX_END_USER_CHARS,
                                 description="The app's identifier of its end user (1-128 printable characters)"),
                      AfterValidator(printable)]

# Dollars as the API takes them: a decimal string with at most 6 decimals, or a bounded number (never an exponent
# that would make an unbounded integer).
Dollars = (Annotated[str, Field(pattern=r"^\$?[0-9]{1,7}(\.[0-9]{1,6})?$", examples=["0.50"])]
           | Annotated[float, Field(ge=0, le=1_000_000)])

LimitName = Literal["requests_per_minute", "images_per_day", "usd_per_day", "usd_per_month"]
LIMIT_NAMES: tuple[LimitName, ...] = ("requests_per_minute", "images_per_day", "usd_per_day", "usd_per_month")


class EndUserLimits(BaseModel):
    """Hard limits for one end user, stored in micro-dollars; every one is set (there is no "unlimited")."""

    requests_per_minute: int = Field(ge=0)
    images_per_day: int = Field(ge=0)
    usd_per_day_micros: int = Field(ge=0)
    usd_per_month_micros: int = Field(ge=0)


# What a new, never-seen end user of an account that set no defaults may do (docs/api.md#end-users).
SYSTEM_DEFAULT_LIMITS = EndUserLimits(requests_per_minute=20, images_per_day=50, usd_per_day_micros=5_000_000,
                                      usd_per_month_micros=50_000_000)


class EndUserHold(BaseModel):
    """What one in-flight job of the end user holds, and the windows it was counted in."""

    micros: int
    images: int
    day: str
    month: str


class EndUserRecord(BaseModel):
    """The end user's quota item: its overrides (None: the account's defaults), the current windows' counters
    (held and charged together; a settle gives back what was not used), its open holds, and its total spend."""

    account_id: str
    end_user: str
    limits: EndUserLimits | None = None
    minute: str = ""
    minute_requests: int = 0
    day: str = ""
    day_images: int = 0
    day_micros: int = 0
    month: str = ""
    month_micros: int = 0
    holds: dict[str, EndUserHold] = Field(default_factory=dict)
    spent_micros: int = 0  # settled charges, all time (the listing's order)
    images_total: int = 0
    jobs_total: int = 0
    created_at: int = 0


class LimitsUpdate(BaseModel):
    """`PUT /v1/end_users/{user}` and `PUT /v1/end_user_defaults`: limits to set; an omitted one keeps its value
    (for a user: the account default)."""

    model_config = ConfigDict(extra="forbid")

    # Strict: JSON's true is not a count (pydantic would read it as 1), as OpenAI answers 400 for a bool in an int.
    requests_per_minute: StrictInt | None = Field(default=None, ge=0, le=100_000)
    images_per_day: StrictInt | None = Field(default=None, ge=0, le=10_000_000)
    usd_per_day: Dollars | None = Field(default=None, description="Dollars, up to 6 decimals")
    usd_per_month: Dollars | None = Field(default=None, description="Dollars, up to 6 decimals")


class EndUserLimitsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: LimitsUpdate


class LimitsView(BaseModel):
    requests_per_minute: int
    images_per_day: int
    usd_per_day: float
    usd_per_day_micros: int
    usd_per_month: float
    usd_per_month_micros: int


class EndUserUsageView(BaseModel):
    requests_this_minute: int
    images_today: int
    usd_today: float
    usd_today_micros: int
    usd_this_month: float
    usd_this_month_micros: int
    in_flight: int
    spent_usd: float
    spent_micros: int
    images_total: int
    jobs_total: int


class EndUserView(BaseModel):
    object: Literal["end_user"] = "end_user"
    id: str
    limits: LimitsView
    limits_source: Literal["end_user", "account_default", "system_default"]
    usage: EndUserUsageView


class EndUserList(BaseModel):
    object: Literal["list"] = "list"
    data: list[EndUserView]
    has_more: bool
    next_cursor: str | None = None
    order: Literal["spent_desc"] = "spent_desc"


class EndUserDefaultsView(BaseModel):
    object: Literal["end_user_defaults"] = "end_user_defaults"
    limits: LimitsView
    source: Literal["account_default", "system_default"]
