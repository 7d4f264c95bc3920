"""Where a request says it comes from and is going to: its origin, its host.

Pure functions of the ASGI scope and the settings, shared by the edge (allowed hosts, the
redirects that must not repeat the Host header) and the guard (the Origin check).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope

from tokenusage.config import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), if any."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of `url`, lower case, without the scheme's default port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def own_origins(scope: Scope, settings: Settings) -> set[str]:
    """The origins this dashboard is reached at: `public_url`, and the request's own."""
    found = set()
    if settings.public_url:
        found.add(origin_of(settings.public_url))
    host = header(scope, b"host")
    if host:
        found.add(origin_of(f"{scope.get('scheme', 'http')}://{host}"))
    return {o for o in found if o is not None}


def foreign_origin(scope: Scope, settings: Settings) -> bool:
    """The browser says this request was made by a page of another origin (`Origin`, or
    without it `Referer`). Neither header (a script, curl) is not foreign: the CSRF token
    still has to be right."""
    stated = header(scope, b"origin")
    if stated is None:
        referer = header(scope, b"referer")
        if referer is None:
            return False
        stated = referer
    elif stated.strip() == "null":  # an opaque origin: a sandboxed frame, a data: URL
        return True
    return origin_of(stated) not in own_origins(scope, settings)


def host_allowed(host: str | None, settings: Settings) -> bool:
    allowed = set(settings.allowed_hosts)
    if not allowed:
        return True
    if settings.public_url:
        allowed.add((urlsplit(settings.public_url).netloc or "").lower())
    if not host:
        return False
    host = host.strip().lower()
    try:
        name = (urlsplit(f"//{host}").hostname or "").lower()
    except ValueError:
        return False
    for entry in allowed:
        if entry in (host, name):
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False
