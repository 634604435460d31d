"""The timeline picture: a pack's events on a time axis, as a PNG drawn with
Pillow. Tall rather than wide, so it reads on a phone; one event can be
highlighted (the "on this day" one). Pictures are cached per pack version."""
from __future__ import annotations

import datetime as dt
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from .packs.schema import Pack

WIDTH = 1080
ROW = 124
TOP, BOTTOM = 170, 60
AXIS_X = 170
LABEL_X = 330
INK, MUTED, LINE = (30, 30, 30), (110, 110, 110), (200, 200, 200)
BACK, ACCENT, HIGHLIGHT_BACK = (250, 248, 242), (178, 34, 34), (255, 236, 200)


class Timeline:
    def __init__(self, max_cached: int = 64):
        self._cache: dict[tuple[str, str, int | None], bytes] = {}
        self._max = max_cached

    def png(self, pack: Pack, version: str, highlight: int | None = None) -> bytes:
        key = (pack.id, version, highlight)
        if key not in self._cache:
            if len(self._cache) >= self._max:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = render(pack, highlight)
        return self._cache[key]


def render(pack: Pack, highlight: int | None = None) -> bytes:
    events = sorted(enumerate(pack.events), key=lambda pair: pair[1].date)
    height = TOP + BOTTOM + ROW * max(1, len(events))
    image = Image.new("RGB", (WIDTH, height), BACK)
    draw = ImageDraw.Draw(image)
    fonts = {size: ImageFont.load_default(size=size) for size in (24, 28, 30, 44)}
    for i, line in enumerate(_lines(pack.title, 42, 2)):
        draw.text((40, 30 + 52 * i), line, font=fonts[44], fill=INK)
    if not events:
        draw.text((40, TOP), "This pack has no dated events.", font=fonts[30], fill=MUTED)
        return _png(image)
    first, last = events[0][1].date, events[-1][1].date
    top, bottom = TOP + ROW // 2, height - BOTTOM - ROW // 2
    draw.line([(AXIS_X, top - 20), (AXIS_X, bottom + 20)], fill=INK, width=4)
    for year in range(first.year, last.year + 1):
        y = _y(dt.date(year, 1, 1), first, last, top, bottom)
        if top - 30 <= y <= bottom + 30:
            draw.line([(AXIS_X - 14, y), (AXIS_X, y)], fill=INK, width=3)
            draw.text((30, y - 16), str(year), font=fonts[28], fill=INK)
    for row, (index, event) in enumerate(events):
        label_y = TOP + row * ROW + 16
        axis_y = _y(event.date, first, last, top, bottom)
        lit = index == highlight
        colour = ACCENT if lit else INK
        if lit:
            draw.rounded_rectangle([(LABEL_X - 16, label_y - 10), (WIDTH - 24, label_y + ROW - 18)],
                                   radius=14, fill=HIGHLIGHT_BACK, outline=ACCENT, width=3)
        draw.line([(AXIS_X, axis_y), (LABEL_X - 24, label_y + 22)], fill=ACCENT if lit else LINE,
                  width=3 if lit else 2)
        r = 11 if lit else 7
        draw.ellipse([(AXIS_X - r, axis_y - r), (AXIS_X + r, axis_y + r)], fill=colour)
        draw.text((LABEL_X, label_y), event.date.strftime("%-d %B %Y"), font=fonts[24], fill=MUTED)
        for i, line in enumerate(_lines(event.title, 46, 2)):
            draw.text((LABEL_X, label_y + 30 + 32 * i), line, font=fonts[30], fill=colour)
    return _png(image)


def _y(day: dt.date, first: dt.date, last: dt.date, top: int, bottom: int) -> int:
    span = (last - first).days or 1
    return round(top + (bottom - top) * (day - first).days / span)


def _lines(text: str, width: int, most: int) -> list[str]:
    # The built-in font has no dashes beyond ASCII; plain hyphens read the same.
    text = text.replace("–", "-").replace("—", "-")
    return textwrap.wrap(text, width=width, max_lines=most, placeholder="…")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
