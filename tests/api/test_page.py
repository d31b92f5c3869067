"""The page at GET /, in a real browser (Debian's headless Chromium driven by Playwright) against a live uvicorn
serving the trained model."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.support.browser import ChromiumMissing, launch_chromium
from tests.support.live_server import LiveServer

SPAM = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply, reply STOP to end"
HAM = "Hey, are we still meeting for lunch tomorrow at 1? Let me know"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            browser = launch_chromium(playwright)
        except ChromiumMissing as missing:
            pytest.fail(str(missing), pytrace=False)  # never a skip: CI must not pass without the browser tests
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def open_page(make_app, live_server_factory, page: Page) -> Callable[..., LiveServer]:
    """Serve the trained model (settings overridable) and open its page."""

    def open_(**overrides: Any) -> LiveServer:
        app, _ = make_app(**overrides)
        live = live_server_factory(app)
        page.goto(f"{live.url}/")
        return live

    return open_


def percent(probability: float) -> str:
    """As the page writes it: one decimal, never a rounded 100.0% or 0.0%."""
    if 0.9995 <= probability < 1:
        return "> 99.9%"
    if 0 < probability < 0.0005:
        return "< 0.1%"
    return f"{probability * 100:.1f}%"


def rows(page: Page) -> Locator:
    return page.locator("#results > li")


def classify(page: Page, text: str) -> dict[str, Any]:
    """Type `text` into the page, press Classify, return the /predict answer's body once the page has shown it."""
    page.get_by_label("Messages, one per line").fill(text)
    with page.expect_response("**/predict") as answer:
        page.get_by_role("button", name="Classify").click()
    body = answer.value.json()
    expect(rows(page)).to_have_count(len(body["predictions"]))
    return body


def test_the_page_is_one_self_contained_html_file_outside_the_api_schema(make_app, live_server_factory):
    live = live_server_factory(make_app()[0])
    response = httpx.get(f"{live.url}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>Spam classifier</title>" in html
    # Nothing from elsewhere: no CDN (offline deployments), and the policy would refuse it anyway.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "/" not in httpx.get(f"{live.url}/openapi.json").json()["paths"]


def test_the_page_shows_each_label_and_spam_probability_and_the_model(open_page, page: Page):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    open_page()
    body = classify(page, f"{SPAM}\n\n   \n{HAM}\n")

    assert body["predictions"][0]["label"] == "spam" and body["predictions"][1]["label"] == "ham"
    for row, text, prediction in zip(rows(page).all(), [SPAM, HAM], body["predictions"], strict=True):
        expect(row.locator(".message")).to_have_text(text)
        expect(row.locator(".label")).to_have_text(prediction["label"])
        expect(row).to_have_class(re.compile(rf"\b{prediction['label']}\b"))
        expect(row.locator(".probability")).to_have_text(f"spam probability {percent(prediction['spam_probability'])}")
    # Visually distinct: the inline style sheet ran (its hash is in the policy) and colours the two labels apart.
    colours = [row.locator(".label").evaluate("e => getComputedStyle(e).backgroundColor") for row in rows(page).all()]
    assert colours[0] != colours[1] and "rgba(0, 0, 0, 0)" not in colours
    model = body["model"]
    expect(page.locator("#model")).to_contain_text(f"Model {model['name']}, version {model['version']}")
    expect(page.locator("#status")).to_have_text("2 classified: 1 spam, 1 ham.")
    expect(page.locator("#error")).to_be_empty()
    assert violations == []


def test_the_page_sends_one_message_per_line_and_works_from_the_keyboard(open_page, page: Page):
    open_page()
    page.get_by_label("Messages, one per line").fill(f"  {HAM}\n\n{SPAM}")
    page.get_by_label("Messages, one per line").focus()
    with page.expect_request("**/predict") as request:
        page.keyboard.press("Control+Enter")
    assert request.value.post_data_json == {"text": [f"  {HAM}", SPAM]}  # blank lines out, the rest as typed
    expect(rows(page)).to_have_count(2)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Classify")).to_be_focused()
    page.keyboard.press("Tab")
    expect(rows(page).nth(0).get_by_role("button", name="Right")).to_be_focused()


def test_the_page_shows_the_api_detail_when_a_text_is_too_long(open_page, page: Page):
    open_page(max_text_chars=50)
    page.get_by_label("Messages, one per line").fill(f"ok\n{'x' * 60}")
    with page.expect_response("**/predict") as answer:
        page.get_by_role("button", name="Classify").click()
    assert answer.value.status == 422
    detail = answer.value.json()["detail"]
    assert detail.startswith("text[1] has 60 characters; the limit is 50 (MAX_TEXT_CHARS)")
    expect(page.get_by_role("alert")).to_have_text(f"The service refused the messages: {detail}")
    expect(rows(page)).to_have_count(0)


def test_blank_input_gets_a_message_without_calling_the_api(open_page, page: Page):
    open_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.get_by_label("Messages, one per line").fill("\n   \n")
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Type or paste at least one message (one per line) before classifying."
    )
    expect(page.get_by_label("Messages, one per line")).to_be_focused()
    assert requested == []


def test_an_unreachable_service_gets_a_message(open_page, page: Page):
    live = open_page()
    classify(page, HAM)
    live.stop()
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the service")
    expect(page.get_by_role("alert")).to_contain_text("check that it is running and try again")
    expect(rows(page)).to_have_count(0)  # no stale results beside the error
    expect(page.get_by_role("button", name="Classify")).to_be_enabled()


def test_feedback_buttons_post_the_true_label_and_mark_the_row(open_page, page: Page):
    open_page()
    body = classify(page, f"{SPAM}\n{HAM}")
    request_id = body["request_id"]
    # Right confirms the predicted label; Wrong reports the other one. Both name the row's index in that request.
    with page.expect_response("**/feedback") as right:
        rows(page).nth(0).get_by_role("button", name="Right").click()
    assert right.value.request.method == "POST"
    assert right.value.request.post_data_json == {"request_id": request_id, "index": 0, "label": "spam"}
    with page.expect_response("**/feedback") as wrong:
        rows(page).nth(1).get_by_role("button", name="Wrong").click()
    assert wrong.value.request.post_data_json == {"request_id": request_id, "index": 1, "label": "spam"}

    for row, answer in zip(rows(page).all(), [right.value, wrong.value], strict=True):
        recorded = expect(row.locator(".feedback-status"), f"POST /feedback answered {answer.status}: {answer.text()}")
        recorded.to_have_text("Thanks — recorded as spam")
        expect(row.get_by_role("button")).to_have_count(0)


def test_refused_feedback_shows_the_api_detail_and_keeps_the_buttons(open_page, page: Page):
    open_page()
    classify(page, HAM)
    # The service refuses feedback only for what the page never sends (an unknown request id, a bad index): the
    # browser answers in the service's place, with the service's error body.
    detail = "no predictions are stored for request_id 'abc'; send the request_id of a /predict answer"
    refusal = {"detail": detail, "errors": [], "request_id": "0" * 32}
    page.route("**/feedback", lambda route: route.fulfill(status=404, json=refusal))
    rows(page).nth(0).get_by_role("button", name="Wrong").click()
    expect(rows(page).nth(0).locator(".feedback-status")).to_have_text(f"Feedback not recorded: {detail}")
    expect(rows(page).nth(0).get_by_role("button", name="Wrong")).to_be_enabled()


def test_with_keys_required_the_page_asks_for_one_once_and_keeps_it_for_the_tab(
    make_app, live_server_factory, page: Page, tmp_path
):
    from datetime import UTC, datetime

    from spam_service.auth import ApiKey, JsonFileKeyStore
    from spam_service.auth.keys import key_digest, new_key

    key = new_key()
    store = JsonFileKeyStore(tmp_path / "api-keys.json")
    store.save([ApiKey("page-user", "predict", key_digest(key), datetime.now(UTC))])
    app, _ = make_app(api_keys_file=store.path)
    live = live_server_factory(app)
    page.goto(f"{live.url}/")
    page.get_by_label("Messages, one per line").fill(SPAM)
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_role("alert")).to_contain_text("needs an API key")
    with page.expect_response("**/predict") as answer:
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Use this key").click()  # and the classification is sent again
    assert answer.value.status == 200
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_label("API key")).to_be_hidden()
    # Kept for the tab: the next classification and the feedback go through without asking again.
    classify(page, HAM)
    with page.expect_response("**/feedback") as sent:
        rows(page).first.get_by_role("button", name="Right").click()
    assert sent.value.status == 200 and sent.value.request.headers["authorization"] == f"Bearer {key}"
    assert page.evaluate("() => localStorage.length") == 0  # never saved beyond the tab
