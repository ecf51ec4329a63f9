"""local.banner: what `make run` prints is copy-pasteable for curl and the openai SDK."""

from __future__ import annotations

from types import SimpleNamespace

from local.banner import banner


def _resources(table: str) -> SimpleNamespace:
    return SimpleNamespace(ref=lambda logical_id: {"Table": table}[logical_id])


def test_the_banner_gives_the_url_key_and_working_examples():
    # Given a running stack with the stand-in provider
    stack = SimpleNamespace(base_url="http://127.0.0.1:3000", api_key="rt_key", aws_endpoint_url="http://127.0.0.1:5000",
                            provider=SimpleNamespace(base_url="http://127.0.0.1:9000/v1", delay=1.0), parameters={},
                            startup_seconds=3.2, account_id="acct_local", resources=_resources("retouch-local-table"),
                            function_urls={"SyncFunction": "http://127.0.0.1:3001",
                                           "McpFunction": "http://127.0.0.1:3002"},
                            upstream_urls={"modelslab": "http://127.0.0.1:9101", "runflow": "http://127.0.0.1:9102/v1/run"},
                            stripe=SimpleNamespace(origin="http://127.0.0.1:9200"),
                            console_url="http://127.0.0.1:3000/console/",
                            console_operator=SimpleNamespace(email="operator@retouch.example", password="Op-pw-9a"))
    # When the banner is printed
    text = banner(stack)
    # Then it shows where to go and how
    assert "http://127.0.0.1:3000/v1" in text and "rt_key" in text
    # And where the console is (issue 21)
    assert "console:   http://127.0.0.1:3000/console/" in text
    assert "console operator: operator@retouch.example   password: Op-pw-9a" in text
    assert '-F "image[]=@photo.png"' in text and '-H "Prefer: wait=60"' in text
    assert "curl -s http://127.0.0.1:3000/v1/jobs/JOB_ID" in text
    # And the SDK goes through the synchronous entry, which holds the call until the image is ready
    assert "sync entry: http://127.0.0.1:3001/v1" in text
    assert 'OpenAI(base_url="http://127.0.0.1:3001/v1", api_key="rt_key")' in text
    assert 'client.images.edit(model="gpt-image-2", image=[open("photo.png", "rb")]' in text
    assert "stand-in" in text
    # And where an MCP client connects (issue 22)
    assert "MCP server: http://127.0.0.1:3002/mcp" in text
    # And where each upstream's stand-in listens, with the key they accept
    assert "upstream stand-ins (key local-stand-in-key)" in text
    assert "modelslab     http://127.0.0.1:9101" in text and "runflow       http://127.0.0.1:9102/v1/run" in text
    # And how to point the admin tool at this stack
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:5000" in text and "RETOUCH_TABLE_NAME=retouch-local-table" in text
    assert "retouch-admin show-account acct_local" in text
    # And where the Stripe stand-in is, and how to buy credit through it
    assert "Stripe stand-in at http://127.0.0.1:9200" in text
    assert "curl -s http://127.0.0.1:3000/v1/billing/top_ups" in text and '{"amount_usd": "25.00"}' in text
    # And the console's seeded operator: who signs in, with what (issue 21)
    assert "console operator: operator@retouch.example   password: Op-pw-9a" in text


def test_with_a_real_key_the_banner_says_calls_cost_money():
    stack = SimpleNamespace(base_url="http://127.0.0.1:3000", api_key="rt_key", aws_endpoint_url="x", provider=None,
                            parameters={"ProviderBaseUrl": "https://api.openai.com/v1"}, startup_seconds=3.2,
                            account_id="acct_local", resources=_resources("t"), function_urls={}, upstream_urls={},
                            stripe=None, console_url="http://127.0.0.1:3000/console/",
                            console_operator=None)
    assert "https://api.openai.com/v1 (OPENAI_API_KEY is set: real calls, real cost)" in banner(stack)
    assert "Stripe itself (STRIPE_SECRET_KEY is set)" in banner(stack)
    assert "upstream stand-ins" not in banner(stack)
    assert "console operator" not in banner(stack)  # a template without the console's user pool seeds none
