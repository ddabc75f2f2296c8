"""HTTP for the Odoo double: requests, answers, and the HTML pages Odoo and its proxies send.

The pages are the ones recorded from live servers (odoo-recordings), byte for byte where a
client could tell the difference; only csrf tokens are made up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderamt.testing._faults import OdooFault

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"

CSRF_TOKEN = "3a1e9b0c5d7f2a4e6b8c0d1e2f3a4b5c6d7e8f90o1767225600"


@dataclass(frozen=True)
class Request:
    """One HTTP request as the double received it."""

    verb: str
    path: str
    query: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    client: str
    """The client's address: Odoo counts failed logins per address."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, in lower case."""
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Response:
    """One HTTP answer."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def reason(self) -> str:
        return phrase(self.status)


@dataclass(frozen=True)
class Call:
    """A request the double understood well enough to count it, fail it, or answer it."""

    method: str
    """What `OdooDouble.calls` counts it as ("search_read", "authenticate", ...), or ""."""
    summary: str
    answer: Callable[[OdooFault | None], Response]
    """Answers the request; an error given is raised where Odoo would run the method."""
    model: str | None = None
    rpc: bool = True
    """False for plain pages, which have no way to carry an Odoo error."""


def phrase(status: int) -> str:
    """The reason phrase werkzeug sends (Python 3.13 renamed 422, werkzeug did not)."""
    if status == 422:
        return "Unprocessable Entity"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def escape(text: str) -> str:
    """HTML-escape as markupsafe does (werkzeug's pages use it)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def html_page(status: int, page: str, *headers: tuple[str, str]) -> Response:
    return Response(status, HTML, page.encode(), headers)


def werkzeug_page(status: int, description_html: str, *headers: tuple[str, str]) -> Response:
    """werkzeug's plain error page, as Odoo sends it for routing errors."""
    title = phrase(status)
    page = (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{status} {title}</title>\n<h1>{title}</h1>\n<p>{description_html}</p>\n"
    )
    return html_page(status, page, *headers)


def method_not_allowed() -> Response:
    """A GET on an XML-RPC endpoint."""
    return werkzeug_page(405, "The method is not allowed for the requested URL.", ("Allow", "POST"))


def not_found() -> Response:
    """Any path Odoo has no route for."""
    return werkzeug_page(
        404,
        "The requested URL was not found on the server. If you entered the URL manually "
        "please check your spelling and try again.",
    )


def unsupported_media_type(route: str, route_type: str) -> Response:
    """A JSON route called with another Content-Type (415, HTML even on a JSON API)."""
    text = escape(
        f"Request inferred type is compatible with ['http'] but {route!r} is type={route_type!r}."
    )
    return werkzeug_page(
        415, f"{text}<br><br>Please verify the Content-Type request header and try again."
    )


def redirect(location: str) -> Response:
    """werkzeug's 303 page."""
    page = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
        f'<a href="{escape(location)}">{escape(location)}</a>. If not, click the link.\n'
    )
    return html_page(303, page, ("Location", location))


def no_database() -> Response:
    """A database-bound route asked for with an X-Odoo-Database the server does not have."""
    page = (
        "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
        "<p>No database is selected and the requested URL was not found in the server-wide "
        "controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try "
        "again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n"
    )
    return html_page(404, page)


def proxy_error(status: int) -> Response:
    """What nginx (or Odoo.sh) answers while Odoo is down or restarting."""
    title = f"{status} {phrase(status)}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Response(status, "text/html", page.encode(), (("Server", "nginx"),))


def login_page() -> Response:
    """Odoo's login page: what a client that follows redirects, or a bad proxy, ends on.

    Like the real page it is HTML, not XML (void tags, bare attributes), so an XML-RPC
    client fails to parse it instead of mistaking it for an answer.
    """
    return html_page(200, _LOGIN_PAGE.replace("<CSRF>", CSRF_TOKEN))


def odoo17_not_found() -> Response:
    """Odoo 17's 404 page (a website page: the recorded server had the website app)."""
    page = "\n".join(_ODOO17_NOT_FOUND_LINES).replace("<CSRF>", CSRF_TOKEN)
    return Response(404, "text/html;charset=utf-8", page.encode())


def internal_error() -> Response:
    """An error in the double itself, answered as werkzeug answers an unhandled exception."""
    return werkzeug_page(
        500,
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application.",
    )


_LOGIN_PAGE = """\
<!DOCTYPE html>
<html lang="en-US">
    <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Login | My Company</title>
        <link type="image/x-icon" rel="shortcut icon" href="/web/static/img/favicon.ico">
        <script type="text/javascript">
            var odoo = {csrf_token: "<CSRF>", debug: ""};
        </script>
    </head>
    <body class="bg-100">
        <main class="oe_website_login_container">
            <form class="oe_login_form" role="form" method="post" action="/web/login">
                <input type="hidden" name="csrf_token" value="<CSRF>">
                <div class="mb-3 field-login">
                    <label for="login" class="form-label">Email</label>
                    <input type="text" placeholder="Email" name="login" id="login" required
                        autofocus autocapitalize="off" class="form-control">
                </div>
                <div class="mb-3">
                    <label for="password" class="form-label">Password</label>
                    <input type="password" placeholder="Password" name="password" id="password"
                        required autocomplete="current-password" maxlength="4096"
                        class="form-control">
                </div>
                <div class="clearfix oe_login_buttons text-center gap-1 d-grid mb-1 pt-3">
                    <button type="submit" class="btn btn-primary">Log in</button>
                </div>
                <input type="hidden" name="redirect">
            </form>
            <div class="text-center small mt-4 pt-3 border-top">
                <a href="https://www.odoo.com?utm_source=db&amp;utm_medium=auth" target="_blank"
                    >Powered by <span>Odoo</span></a>
            </div>
        </main>
    </body>
</html>
"""

# The page as recorded from a live 17.0 server, long lines split to fit the source.
_ODOO17_NOT_FOUND_LINES = (
    "<!DOCTYPE html>",
    "<html>",
    "    <head>",
    '        <meta charset="utf-8"/>',
    '        <meta http-equiv="X-UA-Compatible" content="IE=edge"/>',
    '        <meta name="viewport" content="width=device-width, initial-scale=1"/>',
    "        <title>Odoo</title>",
    '        <link type="image/x-icon" rel="shortcut icon" href="/web/static/img/favicon.ico"/>',
    '        <link rel="preload" href="/web/static/src/libs/fontawesome/fonts/fontawesome-webfo'
    'nt.woff2?v=4.7.0" as="font" crossorigin=""/>',
    '        <link type="text/css" rel="stylesheet" href="/web/assets/311f098/web.assets_fronte'
    'nd.min.css"/>',
    '        <script id="web.layout.odooscript" type="text/javascript">',
    "            var odoo = {",
    '                csrf_token: "<CSRF>",',
    '                debug: "",',
    "            };",
    "        </script>",
    '        <script type="text/javascript">',
    '            odoo.__session_info__ = {"is_admin": false, "is_system": false, "is_public": t'
    'rue, "is_website_user": false, "user_id": false, "is_frontend": true, "profile_session": n'
    'ull, "profile_collectors": null, "profile_params": null, "show_effect": true, "currencies"'
    ': {"1": {"symbol": "$", "position": "before", "digits": [69, 2]}}, "bundle_params": {"lang'
    '": "en_US"}, "websocket_worker_version": "17.0-1", "translationURL": "/website/translation'
    's", "cache_hashes": {"translations": "a0904ff8e2c6bfa6bb5d9f87c1ef6d45fe749aa6"}};',
    "            if (!/(^|;\\s)tz=/.test(document.cookie)) {",
    "                const userTZ = Intl.DateTimeFormat().resolvedOptions().timeZone;",
    "                document.cookie = `tz=${userTZ}; path=/`;",
    "            }",
    "        </script>",
    '        <script type="text/javascript" defer="defer" src="/web/assets/3602f44/web.assets_f'
    'rontend_minimal.min.js" onerror="__odooAssetError=1"></script>',
    '        <script type="text/javascript" defer="defer" data-src="/web/assets/d4700f7/web.ass'
    'ets_frontend_lazy.min.js" onerror="__odooAssetError=1"></script>',
    "        ",
    "    </head>",
    "    <body>",
    '        <div id="wrapwrap" class="  ">',
    '                <header id="top" data-anchor="true">',
    "                    ",
    '                <nav class="navbar navbar-expand navbar-light bg-light">',
    '                    <div class="container">',
    '                        <a href="/" class="navbar-brand logo">',
    '                            <img src="/logo.png?company=1" alt="Logo of My Company" title='
    '"My Company"/>',
    "                        </a>",
    '                        <ul id="top_menu" class="nav navbar-nav ms-auto">',
    '            <li class="nav-item o_no_autohide_item">',
    '                <a href="/web/login" class="nav-link">Sign in</a>',
    "            </li>",
    "        ",
    "        ",
    "                        </ul>",
    "                    </div>",
    "                </nav>",
    "            ",
    "        </header>",
    "                <main>",
    "                    ",
    '            <div id="wrap">',
    "                ",
    '                <div class="oe_structure oe_empty">',
    '                    <section class="s_text_image pt104 pb104" data-snippet="s_image_text" '
    'data-name="Image - Text">',
    '                        <div class="container">',
    '                            <div class="row align-items-center">',
    '                                <div class="col-lg-4 pb32">',
    '                                    <img class="img img-fluid mx-auto" src="/web_editor/sh'
    'ape/http_routing/404.svg?c2=o-color-2"/>',
    "                                </div>",
    '                                <div class="col-lg-8 text-lg-start text-center my-auto">',
    '                                    <h1 class="visually-hidden">Error 404</h1>',
    "                                    <h2>We couldn't find the page you're looking for!</h2>",
    "                                    <p></p>",
    "                                    <p><b>Don't panic.</b> If you think it's our mistake, "
    'please send us a message on <a href="/contactus">this page</a>.</p>',
    "                                </div>",
    '                                <div class="col-lg-12">',
    '                                    <div class="s_hr pt32 pb48" data-snippet="s_hr" data-n'
    'ame="Separator">',
    '                                        <hr class="w-100 mx-auto" style="border-top-width:'
    ' 1px; border-top-style: solid; border-top-color: var(--400);"/>',
    "                                    </div>",
    "                                </div>",
    '                                <div class="col-lg-12">',
    '                                    <p class="text-center">Maybe you were looking for one '
    "of these <b>popular pages?</b></p>",
    '                                    <ul class="list-inline text-center">',
    '                                        <li class="list-inline-item mb-2"><a href="/" clas'
    's="btn btn-primary">Home</a></li>',
    "                                    </ul>",
    "                                </div>",
    "                            </div>",
    "                        </div>",
    "                    </section>",
    "                </div>",
    "            </div>",
    "        ",
    "                </main>",
    '                <footer id="bottom" data-anchor="true" class="bg-light o_footer">',
    '                    <div id="footer"></div>',
    '                    <div class="o_footer_copyright">',
    '                        <div class="container py-3">',
    '                            <div class="row">',
    '                                <div class="col-sm text-center text-sm-start text-muted">',
    '                                    <span class="o_footer_copyright_name me-2">Copyright &'
    'copy; <span itemprop="name">My Company</span></span>',
    "        ",
    "        ",
    "                                </div>",
    '                                <div class="col-sm text-center text-sm-end">',
    '        <div class="o_brand_promotion">',
    "        Powered by ",
    '            <a target="_blank" class="badge text-bg-light" href="http://www.odoo.com?utm_s'
    'ource=db&amp;utm_medium=portal">',
    '                <img alt="Odoo" src="/web/static/img/odoo_logo_tiny.png" width="62" height'
    '="20" style="width: auto; height: 1em; vertical-align: baseline;"/>',
    "            </a>",
    "        ",
    "        </div>",
    "                                </div>",
    "                            </div>",
    "                        </div>",
    "                    </div>",
    "                </footer>",
    "            </div>",
    "        </body>",
    "</html>",
)
