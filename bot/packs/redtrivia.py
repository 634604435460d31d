"""Red-DiscordBot trivia lists (`question: [answers...]`, optional AUTHOR and
CONFIG), turned into pack data so communities moving from Red keep their lists."""
from __future__ import annotations

import re

_RED_META = {"AUTHOR", "CONFIG"}


def is_red_trivia(raw) -> bool:
    if not isinstance(raw, dict) or "questions" in raw or "id" in raw:
        return False
    entries = [v for k, v in raw.items() if k not in _RED_META]
    return bool(entries) and all(isinstance(v, list) for v in entries)


def red_to_pack_data(raw: dict, marks: dict, stem: str) -> tuple[dict, dict]:
    """Return pack data and the positions re-keyed to the pack's paths."""
    author = str(raw.get("AUTHOR") or "unknown")
    pack_id = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "trivia"
    questions, new_marks = [], {(): marks.get(())}
    for prompt, answers in raw.items():
        if prompt in _RED_META:
            continue
        i = len(questions)
        texts = [str(a) for a in answers if a is not None]
        new_marks[("questions", i)] = marks.get((prompt, "<key>"))
        questions.append({
            "id": f"q{i + 1}",
            "kind": "typed",
            "prompt": str(prompt),
            "answer": texts[0] if texts else "",
            "accept": texts[1:],
            "explanation": "Accepted answers: " + ", ".join(texts) if texts else "-",
            "context": f"Red-DiscordBot trivia list by {author}",
        })
    data = {"id": pack_id, "title": stem.replace("_", " ").replace("-", " ").title(),
            "description": f"Imported Red-DiscordBot trivia list by {author}",
            "questions": questions}
    return data, new_marks
