"""`GET /`: a page to try the classifier in a browser. One static HTML file shipped in the package (inline CSS and
vanilla JS, no build step, nothing loaded from elsewhere) that calls `/predict` and `/feedback` like any client."""

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = files("spam_service.api").joinpath("static/index.html")


def content_security_policy(html: str) -> str:
    """Allow exactly the page's own inline script and style (by hash) and requests to this origin only: a net under
    the script's rule of never turning a message into markup, and proof that the page needs nothing from outside."""

    def hashes(tag: str) -> str:
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
        digests = (base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in bodies)
        return " ".join(f"'sha256-{digest}'" for digest in digests) or "'none'"

    return (
        f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def page_router() -> APIRouter:
    """The router serving the page, read once here rather than per request."""
    html = PAGE.read_text(encoding="utf-8")
    headers = {"Content-Security-Policy": content_security_policy(html), "Cache-Control": "no-cache"}
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    return router
