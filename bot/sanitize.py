"""Cleaning what users type before the bot stores it or shows it to others.

Display names and arguments may carry control characters, zero-width marks
and right-to-left overrides that would scramble a leaderboard line or hide
text. They are removed here; markup (HTML, markdown, mentions) is left alone,
because each adapter escapes it for its own platform.
"""
from __future__ import annotations

import unicodedata

NAME_MAX = 64
# Bidirectional embeddings, overrides and isolates; zero-width characters.
_INVISIBLE = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {
    0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x061C}


def clean(text: str, keep_newlines: bool = False) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            if keep_newlines and ch == "\n":
                out.append(ch)
            elif ch in "\t\r\n":
                out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def name(text: str) -> str:
    """A display name: one line, no invisible characters, not too long."""
    cleaned = " ".join(clean(text).split())
    if len(cleaned) > NAME_MAX:
        cleaned = cleaned[: NAME_MAX - 1] + "…"
    return cleaned or "someone"
