"""What `make run` prints once the stack is up: where it is, the key, and copy-paste examples."""

from __future__ import annotations

from local.stack import STAND_IN_PROVIDER_KEY, LoopbackStack


def banner(stack: LoopbackStack) -> str:
    base, key = stack.base_url, stack.api_key or "<no key seeded>"
    if stack.provider is not None:
        provider = f"local stand-in at {stack.provider.base_url} (answers after {stack.provider.delay:g} s)"
    else:
        provider = f"{stack.parameters.get('ProviderBaseUrl', '?')} (OPENAI_API_KEY is set: real calls, real cost)"
    upstreams = "".join(f"\n    {name:<13} {url}" for name, url in sorted(stack.upstream_urls.items()))
    upstream_lines = f"\n  upstream stand-ins (key {STAND_IN_PROVIDER_KEY}):{upstreams}" if upstreams else ""
    if stack.stripe is not None:
        payments = f"Stripe stand-in at {stack.stripe.origin} (no Stripe account: open a top-up's url, press Pay)"
    else:
        payments = "Stripe itself (STRIPE_SECRET_KEY is set)"
    sync = stack.function_urls.get("SyncFunction")
    sync_line = f"\n  sync entry: {sync}/v1   (holds each submission until the image is ready)" if sync else ""
    mcp = stack.function_urls.get("McpFunction")
    mcp_line = f"\n  MCP server: {mcp}/mcp   (Streamable HTTP, Authorization: Bearer <key>; docs/mcp.md)" if mcp else ""
    operator = stack.console_operator
    operator_line = (f"\n  console operator: {operator.email}   password: {operator.password}   (owns this account)"
                     if operator else "")
    return f"""
Retouch is running at {base}   (OpenAI-compatible base URL: {base}/v1){sync_line}{mcp_line}
  console:   {stack.console_url}   (sign up there, or sign in; docs/console.md)
  API key:   {key}{operator_line}
  provider:  {provider}{upstream_lines}
  payments:  {payments}
  AWS (moto): {stack.aws_endpoint_url}   startup: {stack.startup_seconds:.1f} s

Edit an image and wait up to 60 s for the result:
  curl -s {base}/v1/images/edits \\
    -H "Authorization: Bearer {key}" \\
    -H "Prefer: wait=60" \\
    -F model=gpt-image-2 \\
    -F "image[]=@photo.png" \\
    -F prompt="Put a red hat on the cat"

Job status (the id comes back from the edit):
  curl -s {base}/v1/jobs/JOB_ID -H "Authorization: Bearer {key}"

Python, with the openai SDK (the sync entry holds the call until the image is ready, as OpenAI does):
  from openai import OpenAI
  client = OpenAI(base_url="{sync or base}/v1", api_key="{key}")
  result = client.images.edit(model="gpt-image-2", image=[open("photo.png", "rb")], prompt="Put a red hat on the cat")

Buy credit (a Stripe Checkout page; the balance rises when it is paid):
  curl -s {base}/v1/billing/top_ups -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
    -d '{{"amount_usd": "25.00"}}'

Admin tool (accounts, credit, keys, webhooks) against this stack:
  export AWS_ENDPOINT_URL={stack.aws_endpoint_url} AWS_DEFAULT_REGION=us-east-1 \\
         AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local RETOUCH_TABLE_NAME={stack.resources.ref("Table")}
  .venv/bin/retouch-admin show-account {stack.account_id}

Ctrl-C stops everything.
"""
