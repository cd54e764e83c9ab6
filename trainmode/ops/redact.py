"""Secrets out of sight: credentials inside URLs (https://user:password@host) are redacted like keys.

SUPABASE_URL may carry a user name and password (pasted from a proxy or a database URL). Train
Mode never needs them (the API key authenticates), so they are never sent, shown or logged:
messages and captions name the host only, and any text that is shown is scrubbed of them.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"


def userinfo(url: str) -> str:
    """The `user:password` part of a URL ('' if none)."""
    netloc = urlsplit(url or "").netloc
    return netloc.rpartition("@")[0] if "@" in netloc else ""


def without_userinfo(url: str) -> str:
    """The URL with any user name and password removed."""
    parts = urlsplit(url or "")
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def redact_url(url: str) -> str:
    """The URL with any user name and password replaced by ***, for messages."""
    parts = urlsplit(url or "")
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{MASK}@{parts.netloc.rpartition('@')[2]}"))


def host(url: str) -> str:
    """host[:port] of a URL, never its credentials."""
    return urlsplit(without_userinfo(url or "")).netloc


def url_secrets(url: str) -> list[str]:
    """The pieces of a URL that must never be shown: its userinfo, the password alone, decoded too."""
    info = userinfo(url)
    if not info:
        return []
    password = info.partition(":")[2]
    pieces = {info, unquote(info), password, unquote(password)}
    return sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True)


def scrub(text: object, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***."""
    text = str(text or "")
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
