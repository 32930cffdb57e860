"""google.api.http path templates: parse, print, match raw paths, expand bindings.

The syntax is the one in googleapis' google/api/http.proto::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A template is held flat: ``segments`` is every segment in order (``"*"``, ``"**"`` or a
literal), and each ``Capture`` names the span of segments a variable covers, so matching
is one pass over the request's segments whatever the nesting in the text.

Raw request paths go through ``split_path`` first. It refuses anything that could make
two different-looking paths reach different routes (B20): control characters, malformed
or double-encoded escapes, empty and dot segments. It then puts escapes into one form
(unreserved characters decoded, hex in upper case, RFC 3986 §6.2.2) without decoding
``%2F``, so an encoded slash stays inside its segment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import quote, unquote, unquote_to_bytes

UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 6570 reserved characters: a multi-segment variable keeps them percent-encoded.
RESERVED = frozenset(":/?#[]@!$&'()*+,;=")
# Reserved characters that may stand unencoded in a path segment (RFC 3986 pchar).
_PCHAR_RESERVED = frozenset(":@!$&'()*+,;=")

_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-F]{2})+")
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9A-Fa-f]|7[Ff])")
# %252F, %25252e, ...: one decoding step away from a separator or a dot segment.
_DOUBLE_ENCODED = re.compile(r"%25(?:25)*2[EeFf]")
_DOT_SEGMENTS = frozenset({"", ".", ".."})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()+,;=@]|%[0-9A-Fa-f]{2})+")
_SEGMENT_END = frozenset({"/", ":", "}"})

SpecificityKey = tuple[tuple[int, ...], int, str]
"""Smaller sorts first and is more specific: see ``PathTemplate.specificity``."""

# Ranks per position; the end of a template ranks between "*" and "**" so that an exact
# match beats "**" matching zero segments, and otherwise the longer template sorts first.
_RANK_LITERAL, _RANK_STAR, _RANK_END, _RANK_DEEP = 0, 1, 2, 3


class TemplateError(ValueError):
    """A path template that does not follow the google.api.http syntax."""


class PathError(ValueError):
    """A raw request path refused before matching; ``reason`` says why (a 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _normalise_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in UNRESERVED else "%" + match.group(1).upper()


def _normalise_escapes(text: str) -> str:
    """Validates the escapes of ``text`` and puts them into their one canonical form."""
    if _MALFORMED_ESCAPE.search(text):
        raise PathError("malformed percent-encoding")
    if _ENCODED_CONTROL.search(text):
        raise PathError("percent-encoded control character")
    if _DOUBLE_ENCODED.search(text):
        raise PathError("double-encoded '/' or '.'")
    try:
        unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise PathError("percent-encoded bytes are not UTF-8") from None
    return _ESCAPE.sub(_normalise_escape, text)


def split_path(raw_path: str) -> tuple[str, ...]:
    """The normalised segments of a raw (still percent-encoded) request path.

    Raises ``PathError`` for paths that must be refused rather than matched. ``"/"`` has
    no segments; every other path has non-empty segments, none of them ``.`` or ``..``.
    """
    if _PATH.fullmatch(raw_path) is None:
        if not raw_path.startswith("/"):
            raise PathError("path must start with '/'")
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in raw_path):
            raise PathError("control character in path")
        raise PathError("character not allowed in a path (percent-encode it)")
    if raw_path == "/":
        return ()
    if "%" in raw_path:
        raw_path = _normalise_escapes(raw_path)
    segments = tuple(raw_path[1:].split("/"))
    if "" in segments:
        raise PathError("empty path segment")
    if "." in segments or ".." in segments:
        raise PathError("'.' or '..' path segment")
    return segments


def normalise_path(raw_path: str) -> str:
    """The canonical form of a raw path (see ``split_path``); matches exactly as it does."""
    return "/" + "/".join(split_path(raw_path))


def _decode_multi(text: str) -> str:
    """Decodes escapes except those of reserved characters (normalised input)."""
    if "%" not in text:
        return text
    return _ESCAPE_RUN.sub(_decode_run, text)


def _decode_run(match: re.Match[str]) -> str:
    """Decodes a run of escapes, keeping reserved ones, so UTF-8 sequences decode whole."""
    out: list[str] = []
    pending = bytearray()
    for byte in bytes.fromhex(match.group().replace("%", "")):
        if chr(byte) in RESERVED:
            out.append(pending.decode("utf-8"))
            pending.clear()
            out.append(f"%{byte:02X}")
        else:
            pending.append(byte)
    out.append(pending.decode("utf-8"))
    return "".join(out)


def _encode_multi(segment: str) -> str:
    """Encodes one segment of a multi-segment value so ``_decode_multi`` restores it."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        triplet = segment[i : i + 3]
        if char in UNRESERVED or char in _PCHAR_RESERVED:
            out.append(char)
        elif (
            _ESCAPE.fullmatch(triplet)
            and triplet == triplet.upper()
            and (chr(int(triplet[1:], 16)) in RESERVED)
        ):
            # match reports an encoded reserved character as its upper-case escape: keep it.
            out.append(triplet)
            i += 3
            continue
        else:
            out.append(quote(char, safe=""))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Capture:
    """A variable: the field path it binds and its span ``[start, end)`` of segments."""

    field_path: str
    start: int
    end: int


@dataclass(frozen=True)
class PathTemplate:
    """A parsed path template; build one with ``PathTemplate.parse``."""

    segments: tuple[str, ...]
    captures: tuple[Capture, ...]
    verb: str = ""
    _text: str = field(init=False, repr=False, compare=False)
    _deep: bool = field(init=False, repr=False, compare=False)
    _literals: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)
    _plan: tuple[tuple[str, int, int | None, bool], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        count = len(self.segments)
        deep = self.segments[-1] == "**"
        literals = tuple((i, s) for i, s in enumerate(self.segments) if s not in ("*", "**"))
        plan = tuple(
            (
                c.field_path,
                c.start,
                None if deep and c.end == count else c.end,
                self._is_multi(c),
            )
            for c in self.captures
        )
        object.__setattr__(self, "_text", _render(self.segments, self.captures, self.verb))
        object.__setattr__(self, "_deep", deep)
        object.__setattr__(self, "_literals", literals)
        object.__setattr__(self, "_plan", plan)

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        """Parses ``text``; raises ``TemplateError`` saying what is wrong and where."""
        return _Parser(text).parse()

    def __str__(self) -> str:
        return self._text

    @property
    def variables(self) -> tuple[str, ...]:
        """The field paths the template binds, in order."""
        return tuple(c.field_path for c in self.captures)

    def _is_multi(self, capture: Capture) -> bool:
        """Multi-segment variables (``{x=a/*}``, ``{x=**}``) keep reserved escapes."""
        return capture.end - capture.start > 1 or self.segments[capture.start] == "**"

    @property
    def specificity(self) -> SpecificityKey:
        """Precedence key: among templates matching one path, the smallest key wins.

        Segments compare from the left (literal < ``*`` or variable < ``**``), then a
        template with a verb beats one without, then the text breaks ties.
        """
        ranks = tuple(
            _RANK_DEEP if s == "**" else _RANK_STAR if s == "*" else _RANK_LITERAL
            for s in self.segments
        )
        return (*ranks, _RANK_END), 0 if self.verb else 1, self._text

    @property
    def shape(self) -> tuple[tuple[str, ...], str]:
        """What the template matches, with variable names erased (for conflict checks)."""
        return self.segments, self.verb

    def match(self, path: str) -> dict[str, str] | None:
        """Field path → decoded value if the raw ``path`` matches, else None; never raises."""
        try:
            segments = split_path(path)
        except PathError:
            return None
        return self.match_normalised(segments)

    def match_normalised(self, segments: Sequence[str]) -> dict[str, str] | None:
        """As ``match``, for segments that ``split_path`` returned."""
        if self.verb:
            if not segments:
                return None
            last = segments[-1]
            colon = last.rfind(":")
            if colon < 0 or last[colon + 1 :] != self.verb:
                return None
            head = last[:colon]
            if head in _DOT_SEGMENTS:
                # "/:verb" is the root path with a verb; "/a/:verb", "/.:verb" are not paths.
                if head or len(segments) != 1:
                    return None
                segments = ()
            else:
                segments = (*segments[:-1], head)
        count = len(segments)
        if count != len(self.segments) and not (self._deep and count >= len(self.segments) - 1):
            return None
        for i, literal in self._literals:
            if segments[i] != literal:
                return None
        bindings: dict[str, str] = {}
        for field_path, start, end, multi in self._plan:
            if multi:
                bindings[field_path] = _decode_multi("/".join(segments[start:end]))
            else:
                value = segments[start]
                bindings[field_path] = unquote(value) if "%" in value else value
        return bindings

    def expand(self, bindings: Mapping[str, str]) -> str:
        """The raw path whose ``match`` returns exactly ``bindings``.

        Single-segment variables percent-encode everything but ``[-_.~0-9a-zA-Z]``;
        multi-segment ones also keep ``/``, reserved characters allowed in a path and
        upper-case escapes of reserved characters (how ``match`` reports them). Raises
        ``ValueError`` for bindings no path can carry (a missing or extra variable, an
        empty or dot segment, a value that does not fit the variable's pattern).
        """
        if set(bindings) != set(self.variables):
            raise ValueError(f"bindings {sorted(bindings)} do not name the variables of {self}")
        starts = {c.start: c for c in self.captures}
        pieces: list[str] = []
        i = 0
        while i < len(self.segments):
            capture = starts.get(i)
            if capture is None:
                segment = self.segments[i]
                if segment == "*":
                    raise ValueError(f"{self} has a '*' outside a variable: nothing to expand")
                if segment != "**":  # a bare "**" expands to no segments
                    pieces.append(segment)
                i += 1
                continue
            value = bindings[capture.field_path]
            if self._is_multi(capture):
                pieces.extend(_encode_multi(s) for s in (value.split("/") if value else ()))
            else:
                pieces.append(quote(value, safe=""))
            i = capture.end
        path = "/" + "/".join(pieces) + (":" + self.verb if self.verb else "")
        try:
            matched = self.match_normalised(split_path(path))
        except PathError as exc:
            raise ValueError(f"bindings cannot form a valid path: {exc.reason}") from None
        if matched != dict(bindings):
            raise ValueError(f"bindings {dict(bindings)!r} do not fit {self}")
        return path


def parse_template(text: str) -> PathTemplate:
    """Parses a path template (``PathTemplate.parse``)."""
    return PathTemplate.parse(text)


def _render(segments: tuple[str, ...], captures: tuple[Capture, ...], verb: str) -> str:
    """The canonical text: ``{x=*}`` prints as ``{x}``, escapes in their normal form."""
    starts = {c.start: c for c in captures}
    parts: list[str] = []
    i = 0
    while i < len(segments):
        capture = starts.get(i)
        if capture is None:
            parts.append(segments[i])
            i += 1
            continue
        inner = segments[capture.start : capture.end]
        pattern = "" if inner == ("*",) else "=" + "/".join(inner)
        parts.append("{" + capture.field_path + pattern + "}")
        i = capture.end
    return "/" + "/".join(parts) + (":" + verb if verb else "")


class _Parser:
    """Recursive descent over the template text, one character position at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.segments: list[str] = []
        self.captures: list[Capture] = []

    def fail(self, problem: str) -> NoReturn:
        raise TemplateError(f"invalid path template {self.text!r}: {problem} at offset {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> PathTemplate:
        if not self.text:
            raise TemplateError("invalid path template '': empty template")
        if self.peek() != "/":
            self.fail("a template must start with '/'")
        self.pos = 1
        self.parse_segments(in_variable=False)
        verb = ""
        if self.peek() == ":":
            self.pos += 1
            verb = self.parse_literal("verb")
        if self.peek() == "/" and verb:
            self.fail("the verb must not contain '/'")
        if self.peek() == "}":
            self.fail("unmatched '}'")
        if self.peek():
            self.fail(f"unexpected character {self.peek()!r}")
        if "**" in self.segments[:-1]:
            self.pos = self.text.index("**")
            self.fail("'**' must be the last segment")
        return PathTemplate(tuple(self.segments), tuple(self.captures), verb)

    def parse_segments(self, *, in_variable: bool) -> None:
        self.parse_segment(in_variable=in_variable)
        while self.peek() == "/":
            self.pos += 1
            self.parse_segment(in_variable=in_variable)

    def parse_segment(self, *, in_variable: bool) -> None:
        char = self.peek()
        if char in ("", "/", ":", "}"):
            self.fail("empty segment")
        if char == "*":
            deep = self.text.startswith("**", self.pos)
            self.pos += 2 if deep else 1
            if self.peek() and self.peek() not in _SEGMENT_END:
                self.fail("'*' and '**' must be whole segments")
            self.segments.append("**" if deep else "*")
        elif char == "{":
            if in_variable:
                self.fail("variables cannot be nested")
            self.parse_variable()
        else:
            start = self.pos
            literal = self.parse_literal("segment")
            if literal in _DOT_SEGMENTS:
                self.pos = start
                self.fail("'.' and '..' cannot be segments")
            self.segments.append(literal)

    def parse_variable(self) -> None:
        self.pos += 1  # "{"
        names = [self.parse_ident()]
        while self.peek() == ".":
            self.pos += 1
            names.append(self.parse_ident())
        field_path = ".".join(names)
        if field_path in (c.field_path for c in self.captures):
            self.fail(f"variable {field_path!r} is bound twice")
        start = len(self.segments)
        if self.peek() == "=":
            self.pos += 1
            self.parse_segments(in_variable=True)
        else:
            self.segments.append("*")
        if self.peek() != "}":
            self.fail("unclosed '{'" if not self.peek() else f"expected '}}', not {self.peek()!r}")
        self.pos += 1
        self.captures.append(Capture(field_path, start, len(self.segments)))

    def parse_ident(self) -> str:
        match = _IDENT.match(self.text, self.pos)
        if match is None:
            self.fail("expected a field name ([A-Za-z_][A-Za-z0-9_]*)")
        self.pos = match.end()
        return match.group()

    def parse_literal(self, what: str) -> str:
        match = _LITERAL.match(self.text, self.pos)
        if match is None:
            if self.peek() == "%":
                self.fail("malformed percent-encoding")
            self.fail(f"expected a {what}, not {self.peek()!r}" if self.peek() else f"empty {what}")
        try:
            literal = _normalise_escapes(match.group())
        except PathError as exc:
            self.fail(f"{what} {match.group()!r}: {exc.reason}")
        self.pos = match.end()
        if self.peek() == "%":
            self.fail("malformed percent-encoding")
        return literal
