"""Session tokens: the start request hands one out, and the worker's connect message must
carry it back (a JWT, as the dev server's, signed with the engine's dev secret)."""

from __future__ import annotations

from inngest._engine.realtime import tokens

ISSUER = "connect.inngest.com"
AUDIENCE = "gateway.connect.inngest.com"
EXPIRY_SECONDS = 300


def mint(now_ms: int, token_id: str) -> str:
    now = now_ms // 1000
    return tokens.sign({
        "iss": ISSUER, "sub": tokens.ACCOUNT_ID, "aud": [AUDIENCE],
        "exp": now + EXPIRY_SECONDS, "iat": now, "jti": token_id, "env": tokens.ENV_ID,
        "entitlements": {"appsPerConnection": 0},
    })


def valid(token: str, now_ms: int) -> bool:
    claims = tokens.verified(token)
    if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
        return False
    audience, expires = claims.get("aud"), claims.get("exp")
    return isinstance(audience, list) and AUDIENCE in audience \
        and isinstance(expires, (int, float)) and not isinstance(expires, bool) \
        and now_ms / 1000 < expires
