"""Keeps secrets (bot tokens) out of every log record.

HTTP client libraries log request URLs, and Telegram's URLs contain the token,
so filtering our own log calls is not enough: this replaces the record factory,
which every logger in the process goes through, and rewrites any record whose
text or traceback contains a registered secret.
"""
from __future__ import annotations

import logging

REDACTED = "[token hidden]"
_secrets: set[str] = set()
_original_factory = None


def hide(secret: str | None) -> None:
    """Register a secret; from now on it never reaches a log handler."""
    if not secret or len(secret) < 8:
        return
    _secrets.add(secret)
    _install()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def _install() -> None:
    global _original_factory
    if _original_factory is not None:
        return
    _original_factory = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = _original_factory(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return record
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
