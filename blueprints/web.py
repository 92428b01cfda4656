"""The one HTMX contract every view follows, and small request helpers.

- invalid input: the same template (its block alone for HTMX), status 422, input kept;
- success: 303 redirect for a plain request, HX-Redirect for an HTMX one.
"""
from functools import cache, wraps
from urllib.parse import urlsplit

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from jinja2 import nodes
from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds


class BoundedInt(IntegerConverter):
    """<int:…> for row ids: 1 to ID_MAX. A number beyond is no route (404), never a query the
    database refuses (500)."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=ID_MAX, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-Boosted") != "true"


def render_page(template: str, block: str = "content", status: int = 200, **context):
    """The whole page, or only `block` of it for an HTMX request."""
    if is_htmx():
        response = make_response(render_block(template, block, context), status)
    else:
        response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def render_block(template: str, block: str, context: dict) -> str:
    """One block of a template, found in the template or in the templates it extends."""
    env = current_app.jinja_env
    tmpl = env.get_template(template)
    ctx = tmpl.new_context(_template_context(context))
    for parent_name in _parents(template):
        # What Jinja's {% extends %} does at render time: parent blocks after the child's.
        for name, func in env.get_template(parent_name).blocks.items():
            ctx.blocks.setdefault(name, []).append(func)
    return "".join(ctx.blocks[block][0](ctx))


@cache
def _parents(template: str) -> tuple[str, ...]:
    env = current_app.jinja_env
    source = env.loader.get_source(env, template)[0]
    extends = env.parse(source).find(nodes.Extends)
    if extends is None or not isinstance(extends.template, nodes.Const):
        return ()
    parent = extends.template.value
    return (parent, *_parents(parent))


def _template_context(context: dict) -> dict:
    merged = {}
    current_app.update_template_context(merged)
    merged.update(context)
    return merged


def invalid(template: str, block: str = "content", **context):
    """Invalid input: the same template (its block for HTMX), 422, what was typed kept."""
    return render_page(template, block=block, status=422, **context)


def to_messages(response):
    """An HTMX answer that belongs in the page's message area, whatever the request targeted
    (errors: a whole page must never land inside a fragment)."""
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


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


def limit_posts_per_address(setting: str):
    """Refuse (429) a POST to the view past the per-address limit named by `setting`. When the
    limit cannot be counted (Redis away) LimitsUnavailable reaches the error handler (503):
    fail closed, never unlimited."""
    from domain.rate_limits import hit_per_address

    def decorator(view):
        @wraps(view)
        def limited(*args, **kwargs):
            if request.method == "POST" and not hit_per_address(setting, request.endpoint,
                                                                client_ip()):
                abort(429)
            return view(*args, **kwargs)
        return limited
    return decorator
