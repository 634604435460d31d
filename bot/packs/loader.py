"""Load a quiz pack from YAML and report every problem with its line and column.

One loader serves `run_bot.py validate`, start-up loading and uploads in chat.
YAML goes through PyYAML's safe composer only; we build the Python values
ourselves so that every value keeps its position in the file and so that alias
expansion, nesting depth and size stay bounded.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pydantic
import yaml

from .schema import Pack
from .redtrivia import is_red_trivia, red_to_pack_data

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000  # after alias expansion: stops "billion laughs"
MAX_DEPTH = 40
MAX_QUESTIONS = 20_000

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    message: str
    where: str = ""  # e.g. "question pact-date"
    warning: bool = False

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        kind = " warning:" if self.warning else ""
        return f"{self.file}:{self.line}:{self.col}:{where}{kind} {self.message}"


@dataclass
class LoadResult:
    file: str
    pack: Pack | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.pack is not None and not self.errors

    def report(self) -> str:
        return "\n".join(str(p) for p in [*self.errors, *self.warnings])


class _Bad(Exception):
    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.message, self.mark = message, mark


def load_pack_file(path: str | Path) -> LoadResult:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _failed(str(path), f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        return _failed(str(path), f"cannot read file: {exc.strerror or exc}")
    return load_pack_bytes(data, str(path))


def load_pack_bytes(data: bytes, filename: str) -> LoadResult:
    if len(data) > MAX_BYTES:
        return _failed(filename, f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return _failed(filename, f"not UTF-8 text (byte {exc.start})", line=line)
    if "\x00" in text:
        return _failed(filename, "binary data, not YAML text")
    try:
        raw, marks = _parse(text)
    except _Bad as bad:
        line, col = _pos(bad.mark)
        return _failed(filename, bad.message, line, col)
    result = _validate(raw, marks, filename, Path(filename).stem)
    result.version = hashlib.sha256(data).hexdigest()[:16]
    return result


def _failed(filename: str, message: str, line: int = 1, col: int = 1) -> LoadResult:
    return LoadResult(filename, errors=[Problem(filename, line, col, message)])


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


# ---- YAML to plain values, with positions -----------------------------------

# libyaml's safe loader when PyYAML has it: the same safe constructor, about
# ten times faster at composing.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


def _parse(text: str):
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _Bad(f"YAML syntax: {exc.problem}", exc.problem_mark) from None
    except yaml.YAMLError as exc:
        raise _Bad(f"YAML: {exc}") from None
    except RecursionError:
        raise _Bad("YAML is nested too deeply") from None
    try:
        if node is None:
            raise _Bad("the file is empty")
        return _Builder(loader).build(node, 0), _NodeMarks(node)
    finally:
        loader.dispose()


class _NodeMarks:
    """Where a value stands in the file, looked up in the YAML node tree only
    when a problem is reported: a good pack needs no positions at all.
    A path is keys and indexes; a last step "<key>" asks for the key itself."""

    def __init__(self, root):
        self.root = root

    def get(self, path: tuple, default=None):
        node, key_node = self.root, None
        for i, step in enumerate(path):
            if step == "<key>" and i == len(path) - 1:
                return key_node.start_mark if key_node is not None else default
            if isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    return default
                node, key_node = node.value[step], None
            elif isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value
                              if isinstance(k, yaml.ScalarNode) and k.value == str(step)), None)
                if found is None:
                    return default
                key_node, node = found
            else:
                return default
        return node.start_mark

    def __contains__(self, path: tuple) -> bool:
        return self.get(path) is not None

    def __getitem__(self, path: tuple):
        mark = self.get(path)
        if mark is None:
            raise KeyError(path)
        return mark


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        self.nodes = 0

    def build(self, node, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Bad(f"YAML expands to more than {MAX_NODES:,} values (aliases nested too far?)",
                       node.start_mark)
        if depth > MAX_DEPTH:
            raise _Bad(f"YAML is nested deeper than {MAX_DEPTH} levels", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _Bad(f"unsupported YAML tag {node.tag}", node.start_mark)
            return [self.build(item, depth + 1) for item in node.value]
        if node.tag == _STR:
            return node.value  # most values: no need for the constructor's machinery
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise _Bad(f"unsupported YAML value: {exc.problem}", node.start_mark) from None
        except ValueError:
            # e.g. the timestamp 1941-02-30: keep the text so the schema reports it
            # beside every other problem instead of stopping here.
            return node.value

    def _mapping(self, node, depth: int) -> dict:
        if node.tag != _MAP:
            raise _Bad(f"unsupported YAML tag {node.tag}", node.start_mark)
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Bad("YAML merge keys (<<) are not supported", key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Bad("a key must be plain text", key_node.start_mark)
            key = key_node.value if key_node.tag == _STR else self.loader.construct_object(key_node)
            key = key if isinstance(key, str) else str(key)
            if key in out:
                raise _Bad(f"key `{key}` appears twice", key_node.start_mark)
            out[key] = self.build(value_node, depth + 1)
        return out


# ---- validation ---------------------------------------------------------------

def _validate(raw, marks, filename: str, stem: str) -> LoadResult:
    result = LoadResult(filename)
    if is_red_trivia(raw):
        raw, marks = red_to_pack_data(raw, marks, stem)
    if not isinstance(raw, dict):
        result.errors.append(Problem(filename, 1, 1, "a pack must be a mapping with `id`, `title` and `questions`"))
        return result
    report = _Reporter(filename, raw, marks)
    questions = raw.get("questions")
    if isinstance(questions, list) and len(questions) > MAX_QUESTIONS:
        report.error(("questions",), f"{len(questions):,} questions; the limit is {MAX_QUESTIONS:,}")
        result.errors = report.errors
        return result
    pack = None
    try:
        pack = Pack.model_validate(raw)
    except pydantic.ValidationError as exc:
        for err in exc.errors(include_url=False):
            report.pydantic_error(err)
    _cross_check(raw, report)
    result.errors = sorted(report.errors, key=lambda p: (p.line, p.col))
    if pack is not None and not result.errors:
        result.pack = pack
        for i, q in enumerate(pack.questions):
            for problem in q.poll_problems():
                report.warn(("questions", i), f"{problem}: it will be asked with buttons instead")
    result.warnings = report.warnings
    return result


def _cross_check(raw: dict, report: "_Reporter") -> None:
    """Checks across entries, done on the raw data so they add to schema errors."""
    question_ids = _unique_ids(raw, "questions", "question", report)
    _unique_ids(raw, "discussions", "discussion", report)
    for section in ("events", "discussions"):
        for i, entry in enumerate(_list(raw.get(section))):
            for j, ref in enumerate(_list(entry.get("questions") if isinstance(entry, dict) else None)):
                if isinstance(ref, str) and ref not in question_ids:
                    hint = _did_you_mean(ref, question_ids)
                    report.error((section, i, "questions", j), f"related question `{ref}` does not exist{hint}")


def _unique_ids(raw: dict, section: str, noun: str, report: "_Reporter") -> set[str]:
    seen: set[str] = set()
    for i, entry in enumerate(_list(raw.get(section))):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str):
            continue
        if ident in seen:
            report.error((section, i, "id"), f"duplicate {noun} id `{ident}`")
        seen.add(ident)
    return seen


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


class _Reporter:
    def __init__(self, filename: str, raw: dict, marks):
        self.filename, self.raw, self.marks = filename, raw, marks
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._seen: set[tuple] = set()

    def error(self, loc: tuple, message: str, key: bool = False) -> None:
        self._add(self.errors, loc, message, key, warning=False)

    def warn(self, loc: tuple, message: str) -> None:
        self._add(self.warnings, loc, message, False, warning=True)

    def _add(self, into: list, loc: tuple, message: str, key: bool, warning: bool) -> None:
        if (loc, message) in self._seen:
            return
        self._seen.add((loc, message))
        line, col = _pos(self._mark(loc, key))
        into.append(Problem(self.filename, line, col, message, self._where(loc), warning))

    def _mark(self, loc: tuple, key: bool):
        if key and loc + ("<key>",) in self.marks:
            return self.marks[loc + ("<key>",)]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.marks:
                return self.marks[loc[:end]]
        return None

    def _where(self, loc: tuple) -> str:
        if len(loc) < 2 or not isinstance(loc[1], int):
            return ""
        section, index = loc[0], loc[1]
        noun = {"questions": "question", "events": "event", "discussions": "discussion",
                "sources": "source"}.get(section, str(section))
        entries = self.raw.get(section)
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
        label = entry.get("id") if isinstance(entry, dict) else None
        if section == "events" and isinstance(entry, dict):
            label = entry.get("date")
        return f"{noun} {label}" if label not in (None, "") else f"{noun} #{index + 1}"

    def pydantic_error(self, err: dict) -> None:
        loc = _trim_loc(self.raw, tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            name = loc[-1]
            hint = _did_you_mean(str(name), _fields_at(loc[:-1]))
            self.error(loc, f"unknown key `{name}`{hint}", key=True)
        elif kind == "missing":
            self.error(loc[:-1], f"missing field `{loc[-1]}`")
        else:
            message = re.sub(r"^(Value|Assertion) error, ", "", err["msg"])
            field_name = next((p for p in reversed(loc) if isinstance(p, str)), None)
            if field_name and not kind.startswith("value_error"):
                message = f"`{field_name}`: {message}"
            self.error(loc, message)


def _trim_loc(raw, loc: tuple) -> tuple:
    """pydantic adds union-member names (e.g. 'str') to a loc; keep only real keys."""
    node, kept = raw, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            kept.append(part)  # a missing or unknown key: keep it, stop here
            break
        else:
            break
        kept.append(part)
    return tuple(kept)


def _fields_at(loc: tuple) -> list[str]:
    """The field names of the model that sits at `loc` in a pack."""
    model: type[pydantic.BaseModel] = Pack
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        inner = [a for a in typing.get_args(annotation) or [annotation]
                 for a in (typing.get_args(a) or [a])]
        models = [a for a in inner if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
        if not models:
            return []
        model = models[0]
    return list(model.model_fields)
