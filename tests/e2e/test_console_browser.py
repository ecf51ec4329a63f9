"""The console in a real browser (issue 21): Debian's headless Chromium (/usr/bin/chromium, never a downloaded one)
driven by Playwright against the local stack's gateway, which serves console/dist at /console/ as CloudFront does.

What a customer does, through the pages only: sign up and verify by the e-mailed code (read from the local capture),
create and revoke a key, top up through the (stand-in) Stripe Checkout page, set a webhook endpoint, run a playground
edit and see the result, find the job in the log with its thumbnails, see the usage change and redeliver the job's
webhook; and an operator adjusting the customer's credit. Every page is scanned with axe-core (0 serious or critical
violations) and photographed at 1280x800 and 390x844 into build/console-screenshots/ (listed at the end of the run).

One browser and one signed-in context per person for the whole file, so it runs in seconds; the pages' strict CSP
stays on (axe is evaluated through the DevTools protocol, which CSP does not govern) and any CSP violation or page
error fails the test that caused it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from local import REPO_ROOT
from local.aws.email_capture import latest_code
from tests.e2e.conftest import png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.local_only]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
AXE = REPO_ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "build" / "console-screenshots"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
PASSWORD = "Console-Tests-42!"
SESSION_COOKIE = "__Host-retouch_session"
TIMEOUT_MS = 20_000
SERIOUS = ("serious", "critical")


# ---- the browser, its people, and what they leave behind ---------------------------------------------------------

@dataclass
class Person:
    email: str
    page: Any  # playwright Page, one per person, in its own context (cookies)
    problems: list[str] = field(default_factory=list)  # CSP violations and page errors seen so far

    def go(self, base_url: str, path: str) -> None:
        self.page.goto(f"{base_url}/console{path}")
        self.page.locator("h1").first.wait_for()

    def heading(self, name: str) -> Any:
        return self.page.get_by_role("heading", name=name, level=1)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: `make test` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Iterator[list[Path]]:
    """The screenshots taken, printed (and written to index.txt) when the file is done."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    yield taken
    (SCREENSHOTS / "index.txt").write_text("".join(f"{path}\n" for path in taken))
    listing = "".join(f"\n  {path.relative_to(REPO_ROOT)}" for path in taken)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # printed past pytest's capture, even when every test passed
        print(f"\nconsole screenshots ({len(taken)}) in {SCREENSHOTS}:{listing}")


def _watch(page: Any, problems: list[str]) -> None:
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))


def _new_person(browser: Any, email: str) -> Person:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    person = Person(email, page)
    _watch(page, person.problems)
    page.on("dialog", lambda dialog: dialog.accept())  # the revoke/remove confirmations
    return person


def _sign_in(person: Person, base_url: str, password: str) -> None:
    person.go(base_url, "/sign-in")
    person.page.get_by_label("E-mail").fill(person.email)
    person.page.get_by_label("Password").fill(password)
    person.page.get_by_role("button", name="Sign in").click()
    person.heading("Playground").wait_for()


@pytest.fixture(scope="module")
def customer(stack, browser) -> Person:
    """A new customer, signed up, verified and signed in through the pages (the sign-up scenario itself)."""
    person = _new_person(browser, f"browser-{uuid.uuid4().hex[:10]}@example.com")
    page = person.page
    person.go(stack.base_url, "/sign-up")
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Account name (optional)").fill("Browser Test Studio")
    page.get_by_role("button", name="Sign up").click()
    person.heading("Verify your e-mail").wait_for()
    code = _eventually(lambda: latest_code(stack.aws_endpoint_url, person.email), "the verification e-mail")
    page.get_by_label("Verification code").fill(code)
    assert page.get_by_label("Password").input_value() == ""  # typed again, never kept from the sign-up page
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Verify").click()  # verified and signed in: no separate sign-in
    person.heading("Playground").wait_for()
    return person


@pytest.fixture(scope="module")
def operator(stack, browser) -> Person:
    person = _new_person(browser, stack.console_operator.email)
    _sign_in(person, stack.base_url, stack.console_operator.password)
    return person


def _eventually(read: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
        except (LookupError, ValueError, httpx.HTTPError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout:g} s")
        time.sleep(0.2)


# A page's data on a machine that runs the other e2e module's stack beside this one: the operator's pages read
# every account's figures, which took over Playwright's default 20 s under load (alone: about 1 s).
SETTLE_MILLISECONDS = 45_000


def _settled(page: Any) -> None:
    """Nothing still loading, every image finished."""
    page.wait_for_function("() => !document.body.innerText.includes('Loading…') && "
                           "[...document.images].every(img => img.complete)", timeout=SETTLE_MILLISECONDS)


def _balance(person: Person) -> str:
    return str(person.page.get_by_test_id("balance").inner_text())


class WebhookReceiver:
    """An endpoint on loopback (allowlisted by the e2e stack) recording every delivery."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"headers": dict(self.headers), "body": json.loads(body or b"{}")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()


# ---- what a customer does, each a prerequisite of the scenarios after it ------------------------------------------

@pytest.fixture(scope="module")
def funded(stack, customer) -> str:
    """A $10 top-up paid on the (stand-in) Stripe Checkout page; returns the balance the billing page shows."""
    page = customer.page
    customer.go(stack.base_url, "/billing")
    assert _balance(customer) == "$0.00"  # ConsoleSignUpCreditUsd defaults to 0
    page.get_by_label("Amount (USD)").fill("10.00")
    page.get_by_role("button", name="Pay with Stripe").click()
    page.wait_for_url(re.compile(r".*/checkout/.*"))
    assert stack.stripe.origin in page.url  # left the console for the checkout page
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_role("link", name="Back to the merchant").click()
    customer.heading("Billing").wait_for()
    assert "top_up=paid" in page.url
    deadline = time.monotonic() + 15
    while _balance(customer) != "$10.00" and time.monotonic() < deadline:
        time.sleep(0.3)
        page.get_by_role("button", name="Refresh").click()
    assert _balance(customer) == "$10.00"
    page.get_by_role("link", name=re.compile("Receipt")).first.wait_for()
    return _balance(customer)


@pytest.fixture(scope="module")
def webhook_endpoint(stack, customer, receiver) -> str:
    """The account's default webhook URL set on the Webhooks page (its signing secret shown once)."""
    page = customer.page
    customer.go(stack.base_url, "/webhooks")
    _settled(page)
    page.get_by_label("Endpoint URL (https)").fill(receiver.url)
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    assert page.get_by_label("Signing secret").input_value().startswith("whsec_")
    return receiver.url


@dataclass(frozen=True)
class Edit:
    job_id: str
    jobs_before: int
    spend_before: str


def _usage_figures(stack, person: Person) -> tuple[int, str]:
    person.go(stack.base_url, "/usage")
    jobs = person.page.get_by_test_id("usage-jobs")
    return int(jobs.inner_text()), str(person.page.get_by_test_id("usage-total").inner_text())


@pytest.fixture(scope="module")
def edit(stack, customer, funded, webhook_endpoint, shots) -> Edit:
    """A playground edit: the image uploaded to S3 from the page, quoted, run, followed to its end."""
    jobs_before, spend_before = _usage_figures(stack, customer)
    page = customer.page
    customer.go(stack.base_url, "/playground")
    page.get_by_label(re.compile("Images to edit")).set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png_bytes((256, 256), (30, 120, 200))}])
    page.get_by_text("photo.png: uploaded").wait_for()
    page.get_by_label("Prompt").fill("Put a small red hat on it")
    page.get_by_label("Quality").select_option("low")
    page.get_by_role("button", name="Get a quote").click()
    quote = page.get_by_test_id("quote")
    assert re.search(r"Expected cost \$0\.\d+", quote.inner_text())
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.get_by_role("region", name="Result")
    result.get_by_text("succeeded").wait_for()
    job_id = result.locator("a.mono").inner_text()
    assert job_id.startswith("job_")
    _scan_and_photograph_this(customer, "playground-result", shots)  # the page with its before/after
    return Edit(job_id, jobs_before, spend_before)


def _loaded(page: Any, selector: str, expected: int) -> int:
    """How many images matching `selector` loaded (presigned links that work), once `expected` of them are on the
    page and each has finished (loaded or failed)."""
    page.wait_for_function("([selector, expected]) => { const images = [...document.querySelectorAll(selector)];"
                           " return images.length >= expected && images.every(img => img.complete) }",
                           arg=[selector, expected])
    return int(page.evaluate("selector => [...document.querySelectorAll(selector)]"
                             ".filter(img => img.naturalWidth > 0).length", selector))


# ---- the scenarios -----------------------------------------------------------------------------------------------

def test_sign_up_and_verify_by_email_gives_a_strict_session_cookie_and_nothing_in_storage(stack, customer):
    # Given the customer who signed up, verified with the e-mailed code and signed in (the fixture, through the pages)
    page = customer.page
    # Then the session is an HttpOnly, Secure, SameSite=Strict __Host- cookie the browser keeps on http://127.0.0.1
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies[SESSION_COOKIE]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict" and session["path"] == "/"
    # And the page holds no secret of its own: nothing in localStorage or sessionStorage
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    # And the header says who is signed in
    assert customer.email in page.locator("header").inner_text()
    assert customer.problems == []


def test_create_a_key_shown_once_use_it_and_revoke_it(stack, customer):
    page = customer.page
    customer.go(stack.base_url, "/keys")
    # When a key is created on the Keys page
    page.get_by_label("Name").fill("browser test key")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("New API key").input_value()
    # Then its secret is shown once, and it works against the public API
    assert secret.startswith("rt_")
    assert httpx.get(f"{stack.base_url}/v1/account", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page.get_by_role("button", name="I have saved it: hide the key").click()
    assert page.get_by_label("New API key").count() == 0
    row = page.get_by_role("row", name=re.compile("browser test key"))
    assert "active" in row.inner_text() and secret not in page.content()
    # When it is revoked
    row.get_by_role("button", name="Revoke browser test key").click()
    page.get_by_role("row", name=re.compile("browser test key.*revoked")).wait_for()
    # Then the API refuses it at once where it changes something (a read may ride the authorizer's 30 s cache, as
    # in AWS)
    upload = {"filename": "a.png", "bytes": 1000, "mime_type": "image/png"}
    _eventually(lambda: httpx.post(f"{stack.base_url}/v1/uploads", json=upload,
                                   headers={"Authorization": f"Bearer {secret}"}).status_code == 401,
                "refusal of the revoked key", timeout=5)
    assert customer.problems == []


def test_top_up_through_stripe_checkout_raises_the_balance(funded, customer):
    # Given a $10 top-up paid on the checkout page (the fixture, through the pages)
    # Then the billing page shows the new balance and the payment with its receipt
    assert funded == "$10.00"
    assert customer.page.get_by_role("row", name=re.compile(r"\$10\.00.*succeeded")).count() >= 1
    assert customer.problems == []


def test_a_playground_edit_shows_the_result_before_and_after(stack, customer, edit):
    page = customer.page
    # Then the comparison shows the uploaded image and the edited one, both loaded
    assert _loaded(page, ".compare img", 2) == 2
    # And the result can be downloaded (a presigned link to the output)
    download = page.get_by_role("link", name=re.compile("Download image 1"))
    assert httpx.get(download.get_attribute("href") or "").status_code == 200
    assert customer.problems == []


def test_the_job_is_in_the_log_with_its_thumbnails_and_its_page(stack, customer, edit):
    page = customer.page
    customer.go(stack.base_url, "/jobs")
    row = page.locator(f"tr[data-job-id='{edit.job_id}']")
    row.wait_for()
    assert "succeeded" in row.inner_text()
    # Before and after thumbnails, from presigned links that load
    assert _loaded(page, f"tr[data-job-id='{edit.job_id}'] img.thumb", 2) == 2
    # The job's page: its inputs and outputs, its events and its webhook deliveries
    row.get_by_role("link", name=edit.job_id).click()
    customer.heading(f"Job {edit.job_id}").wait_for()
    assert _loaded(page, ".gallery img", 2) == 2
    events = page.locator("ol.events")
    events.get_by_text("job.succeeded").wait_for()
    assert "job.queued" in events.inner_text()
    assert customer.problems == []


def test_usage_changes_after_the_edit(stack, customer, edit):
    jobs, spend = _usage_figures(stack, customer)
    assert jobs == edit.jobs_before + 1
    assert spend != edit.spend_before and spend.startswith("$0.0")
    # And the CSV export holds the job's usage and the ledger's top-up
    with customer.page.expect_download() as downloading:
        customer.page.get_by_role("button", name="Export CSV").click()
    csv = Path(downloading.value.path()).read_text()
    assert csv.startswith("record,date,model,end_user,jobs,images,amount_usd")
    assert "usage," in csv and ",gpt-image-2,," in csv and ",top_up," in csv
    assert customer.problems == []


def test_redeliver_a_webhook_from_the_job_page(stack, customer, edit, receiver):
    # Given the edit's job.succeeded delivered to the account's endpoint
    _eventually(lambda: [d for d in receiver.received if d["body"].get("type") == "job.succeeded"],
                "first delivery")
    delivered = len(receiver.received)
    page = customer.page
    customer.go(stack.base_url, f"/jobs/{edit.job_id}")
    page.get_by_role("cell", name="job.succeeded").first.wait_for()
    # When the customer presses Redeliver
    page.get_by_role("button", name="Redeliver the latest event").click()
    page.get_by_text("Queued for delivery again.").wait_for()
    # Then the endpoint receives the event again, and the Webhooks page's log shows the deliveries
    _eventually(lambda: len(receiver.received) > delivered, "redelivery")
    assert receiver.received[-1]["body"]["type"] == "job.succeeded"
    customer.go(stack.base_url, "/webhooks")
    expect(page.get_by_role("row", name=re.compile(edit.job_id))).to_have_count(2, timeout=TIMEOUT_MS)
    assert customer.problems == []


def test_invite_someone_into_the_account(stack, customer):
    page = customer.page
    customer.go(stack.base_url, "/members")
    _settled(page)
    invitee = f"colleague-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("E-mail").fill(invitee)
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text(f"{invitee} joins this account when they sign up").wait_for()
    page.get_by_role("table").filter(has_text="Invited by").get_by_role("cell", name=invitee).wait_for()
    assert customer.email in page.get_by_role("region", name="People in this account").inner_text()
    assert customer.problems == []


def test_an_operator_adjusts_a_customers_credit(stack, customer, funded, operator):
    account_id = customer.page.evaluate("() => fetch('/console/api/session').then(r => r.json())")["account"]["id"]
    page = operator.page
    operator.go(stack.base_url, "/operator")
    page.locator("tr[data-account-id]").first.wait_for()
    # Find the customer's account (the operator's list is paged)
    row = page.locator(f"tr[data-account-id='{account_id}']")
    for _ in range(20):
        if row.count():
            break
        page.get_by_role("button", name="Next").click()
        page.locator("tr[data-account-id]").first.wait_for()
    row.get_by_role("button", name=f"Adjust credit of {account_id}").click()
    page.get_by_label(re.compile("Amount \\(USD")).fill("2.50")
    page.get_by_label(re.compile("Reason")).fill("Goodwill credit for the browser test")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text(re.compile(f"balance of {account_id} is now")).wait_for()
    # Then the customer's ledger shows the credit with its reason
    customer.go(stack.base_url, "/billing")
    customer.page.get_by_role("cell", name="Goodwill credit for the browser test").wait_for()
    assert operator.problems == []


# ---- every page: accessible, and photographed at desktop and phone width ------------------------------------------

PUBLIC_PAGES = {"sign-up": "/sign-up", "verify": "/verify", "sign-in": "/sign-in"}
CUSTOMER_PAGES = {"playground": "/playground", "jobs": "/jobs", "job": "/jobs/{job_id}", "usage": "/usage",
                  "billing": "/billing", "keys": "/keys", "webhooks": "/webhooks", "end-users": "/end-users",
                  "members": "/members"}
OPERATOR_PAGES = {"operator": "/operator"}


def _axe_violations(page: Any) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through the DevTools protocol: the page's CSP does not apply
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            f"{[node['target'] for node in violation['nodes']][:3]}"
            for violation in result["violations"] if violation["impact"] in SERIOUS]


def _wider(page: Any, width: int) -> list[str]:
    """The elements that reach past `width` (what to fix when a page is wider than the phone)."""
    return list(page.evaluate("width => [...document.querySelectorAll('body *')].filter(e => "
                              "e.getBoundingClientRect().right > width + 1).slice(0, 8).map(e => "
                              "e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))", width))


def _scan_and_photograph(person: Person, base_url: str, name: str, path: str, shots: list[Path]) -> None:
    person.go(base_url, path)
    _scan_and_photograph_this(person, name, shots)


def _scan_and_photograph_this(person: Person, name: str, shots: list[Path]) -> None:
    """The page as it is now, at both widths: axe-core's serious and critical violations, the width, a screenshot."""
    _settled(person.page)
    for viewport, (width, height) in VIEWPORTS.items():
        person.page.set_viewport_size({"width": width, "height": height})
        # Then nothing serious or critical for assistive technology, at either width
        assert _axe_violations(person.page) == [], f"{name} at {viewport}"
        # And nothing wider than the screen at phone width (tables scroll inside their own region)
        if viewport == "phone":
            assert person.page.evaluate("() => document.documentElement.scrollWidth") <= width, (name, _wider(
                person.page, width))
        shot = SCREENSHOTS / f"{name}-{viewport}-{width}x{height}.png"
        person.page.screenshot(path=str(shot), full_page=True)
        shots.append(shot)
    width, height = VIEWPORTS["desktop"]
    person.page.set_viewport_size({"width": width, "height": height})


@pytest.mark.parametrize("name", [*PUBLIC_PAGES, *CUSTOMER_PAGES, *OPERATOR_PAGES])
def test_every_page_has_no_serious_accessibility_violation_at_desktop_and_phone_width(
        request, stack, browser, shots, name):
    if name in PUBLIC_PAGES:
        person = _new_person(browser, "nobody@example.com")  # signed out
        path = PUBLIC_PAGES[name]
    elif name in OPERATOR_PAGES:
        person, path = request.getfixturevalue("operator"), OPERATOR_PAGES[name]
    else:
        person = request.getfixturevalue("customer")
        path = CUSTOMER_PAGES[name]
        if "{job_id}" in path:
            path = path.format(job_id=request.getfixturevalue("edit").job_id)
    try:
        _scan_and_photograph(person, stack.base_url, name, path, shots)
        assert person.problems == []
    finally:
        if name in PUBLIC_PAGES:
            person.page.context.close()


def test_keyboard_alone_reaches_the_navigation_with_a_visible_focus(stack, customer):
    page = customer.page
    customer.go(stack.base_url, "/jobs")
    focused = "() => ({text: document.activeElement.textContent, tag: document.activeElement.tagName, " \
              "outline: getComputedStyle(document.activeElement).outlineStyle})"
    # A page opens with its heading focused, so the next Tab reaches its first control and Shift+Tab the navigation
    assert page.evaluate(focused)["tag"] == "H1"
    page.keyboard.press("Tab")
    control = page.evaluate(focused)
    assert control["tag"] in ("BUTTON", "SELECT", "A", "INPUT") and control["outline"] != "none"
    page.keyboard.press("Shift+Tab")  # back past the heading (focusable by the app only) to the navigation's end
    link = page.evaluate(focused)
    assert link["tag"] == "A" and link["text"] == "Members" and link["outline"] != "none"
    # Enter on a navigation link opens its page
    page.keyboard.press("Enter")
    customer.heading("Members").wait_for()
    # The skip link shows when focused and moves the focus to the main content
    page.locator("a.skip").focus()
    assert page.locator("a.skip").is_visible() and page.evaluate(focused)["outline"] != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_the_console_is_served_with_the_distributions_security_headers(stack):
    page = httpx.get(f"{stack.base_url}/console/keys")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    script = re.search(r'src="(/console/assets/[^"]+\.js)"', page.text)
    assert script is not None
    asset = httpx.get(f"{stack.base_url}{script.group(1)}")
    assert asset.headers["content-type"].startswith("text/javascript") and "immutable" in asset.headers["cache-control"]
