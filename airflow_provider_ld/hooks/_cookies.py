"""A cookie policy for both hooks: the API authenticates with a token, so no cookie is ever kept or sent."""

from __future__ import annotations

from http.cookiejar import CookieJar, CookiePolicy
from typing import Any


class RefuseCookies(CookiePolicy):
    """
    Neither store nor send any cookie.

    The async client is shared by every hook of an event loop, whatever their tokens: a cookie one
    answer set would otherwise travel with another token's requests.
    """

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def refusing_jar() -> CookieJar:
    """Return a standard-library cookie jar that refuses every cookie."""
    return CookieJar(policy=RefuseCookies())


__all__ = ["RefuseCookies", "refusing_jar"]
