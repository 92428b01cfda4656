"""The one HTMX contract every view follows, and small request helpers.

- invalid input: the same template (its block alone for HTMX), status 422, input kept;
- success: 303 redirect for a plain request, HX-Redirect for an HTMX one.
"""
from urllib.parse import urlsplit

from flask import current_app, make_response, redirect, render_template, request, url_for


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-Boosted") != "true"


def render_page(template: str, block: str = "content", status: int = 200, **context):
    """The whole page, or only `block` of it for an HTMX request."""
    if is_htmx():
        tmpl = current_app.jinja_env.get_template(template)
        ctx = tmpl.new_context(_template_context(context))
        html = "".join(tmpl.blocks[block](ctx))
        response = make_response(html, status)
    else:
        response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def _template_context(context: dict) -> dict:
    merged = {}
    current_app.update_template_context(merged)
    merged.update(context)
    return merged


def invalid(template: str, block: str = "content", **context):
    return render_page(template, block=block, status=422, **context)


def redirect_to(endpoint: str, **values):
    return redirect_url(url_for(endpoint, **values))


def redirect_url(url: str):
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, code=303)
    response.vary.add("HX-Request")
    return response


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: an absolute URL or //host from `next=` is ignored."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


def client_ip() -> str:
    return request.remote_addr or ""
