"""CSRF tokens of the web forms.

Every form carries a token that is an HMAC, under the server secret, of a
cookie only this browser holds: the session cookie once signed in, before
that a random ``sikker_csrf`` cookie. Another site can make a browser post
a form, but cannot read the cookie, so it cannot compute the token. Both
cookies are ``HttpOnly`` and ``SameSite=Lax``, which already keeps them out
of cross-site posts.
"""

import hashlib
import hmac

#: The signed-in browser's session token.
SESSION_COOKIE = "sikker_session"
#: A random value that anonymous forms (sign in, sign up, removal) are tied to.
ANON_COOKIE = "sikker_csrf"
#: The form field that carries the token.
FIELD = "csrf"
TOKEN_CHARS = 40


def token_for(secret: bytes, seed: str) -> str:
    """Return the form token of a browser whose cookie is ``seed``."""
    mac = hmac.new(secret, b"csrf\0" + seed.encode(), hashlib.sha256)
    return mac.hexdigest()[:TOKEN_CHARS]


def valid(secret: bytes, seed: str, token: str) -> bool:
    """Return whether ``token`` is the form token of ``seed`` (constant time)."""
    if not seed or len(token) != TOKEN_CHARS:
        return False
    return hmac.compare_digest(token_for(secret, seed), token)
