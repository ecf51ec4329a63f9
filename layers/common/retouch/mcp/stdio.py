"""`retouch-mcp`: the Retouch MCP server over stdio, for desktop clients, talking to a Retouch API by URL and key.

Configured by whoever installs it (the MCP client's config: arguments or environment), never by the agent: the base
URL, the key, and the per-call spend ceiling. Local paths are allowed in edit_image here (uploaded through
/v1/uploads), since the files are the user's own. Logs go to stderr only (stdout is the protocol) and carry no
prompt, image or key.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import anyio
import httpx
from mcp.server.stdio import stdio_server

from retouch.billing.money import parse_usd
from retouch.mcp.api_client import ApiRefused, Connection, RetouchApi
from retouch.mcp.request_limit import NoGate
from retouch.mcp.server import create_server
from retouch.mcp.service import ServiceOptions
from retouch.mcp.spend_guard import SpendGuard

DEFAULT_MAX_WAIT_SECONDS = 120.0
DEFAULT_PREVIEW_BYTES = 1_000_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retouch-mcp", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", default=os.environ.get("RETOUCH_BASE_URL"),
                        help="the Retouch API, e.g. http://127.0.0.1:3000 (env RETOUCH_BASE_URL)")
    parser.add_argument("--max-cost-per-call", default=os.environ.get("RETOUCH_MCP_MAX_COST_PER_CALL"),
                        help="USD one call may hold at most, e.g. 0.50 (env RETOUCH_MCP_MAX_COST_PER_CALL; "
                             "unset: only the account's credit)")
    parser.add_argument("--price-markup-percent", type=int,
                        default=int(os.environ["RETOUCH_PRICE_MARKUP_PERCENT"])
                        if os.environ.get("RETOUCH_PRICE_MARKUP_PERCENT") else None,
                        help="the deployment's PriceMarkupPercent, if it sets one (the guard computes the hold "
                             "as the API does)")
    parser.add_argument("--max-wait-seconds", type=float, default=DEFAULT_MAX_WAIT_SECONDS,
                        help="for clients without tasks: longest wait for images before answering the job id")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    key = os.environ.get("RETOUCH_API_KEY")  # never an argument: process lists show arguments
    if not args.base_url or not key:
        sys.exit("retouch-mcp: set RETOUCH_BASE_URL (or --base-url) and RETOUCH_API_KEY")
    limit = parse_usd(args.max_cost_per_call) if args.max_cost_per_call else None
    guard = SpendGuard(limit, args.price_markup_percent)
    options = ServiceOptions(allow_paths=True, max_wait_seconds=args.max_wait_seconds,
                             preview_bytes=DEFAULT_PREVIEW_BYTES)
    anyio.run(_serve, Connection(args.base_url, key), guard, options)


async def _serve(connection: Connection, guard: SpendGuard, options: ServiceOptions) -> None:
    async with httpx.AsyncClient() as http:
        api = RetouchApi(connection, http)
        # Nothing is counted here: the API counts each call this server makes to it (retouch/mcp/request_limit.py).
        server = create_server(api, await key_guard(api, guard), options, NoGate())
        async with stdio_server() as (read_stream, write_stream):
            init: Any = server.create_initialization_options()
            await server.run(read_stream, write_stream, init)


async def key_guard(api: RetouchApi, guard: SpendGuard) -> SpendGuard:
    """`guard` narrowed to the key's own ceiling, which the operator set and the API shows the key
    (GET /v1/account); read before serving, so a server that cannot read it does not start without it. A device
    token may not read the account (403): it has no key ceiling, and its own spend cap is the API's to enforce."""
    try:
        account = await api.account()
    except ApiRefused as exc:
        if exc.status == 403:
            return guard
        sys.exit(f"retouch-mcp: could not read the key's account from the API: {exc}")
    ceiling = account.get("key_max_cost_per_call_micros")
    return guard.narrowed_to(int(ceiling) if ceiling is not None else None)


if __name__ == "__main__":
    main()
