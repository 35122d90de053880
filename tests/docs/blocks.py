"""A Markdown page's code blocks as the docs-runner sees them (docs/testing.md, "Docs that run").

markdown-it-py finds the fenced blocks and the HTML comments (CommonMark's own parser, so a
fence inside a list or a longer fence is read as a reader's renderer reads it). This module adds
the runner's conventions on top:

- a block's language is the first word of its info string; ``sh``, ``bash``, ``shell`` and
  ``console`` blocks are shell, ``python`` and ``py`` blocks are Python, the rest are not run;
- a ``text`` or ``json`` block (or one with no language) that follows a shell or Python block
  with only blank lines between is that block's expected output;
- an HTML comment ``<!-- docs-runner: WORD key=value ... -->`` right before a block (blank lines
  between allowed) is a directive for it: ``skip reason="..."``, ``background port=N`` or
  ``file path=NAME``; ``<!-- docs-runner: clone -->`` anywhere runs the page in a copy of the
  repository (a page read in a clone);
- in expected output, ``<N hex>`` stands for N hexadecimal digits, ``…`` (U+2026) for any text
  within a line, and a line that is ``...`` alone for any number of lines.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

SHELL = frozenset({"sh", "bash", "shell", "console"})
PYTHON = frozenset({"python", "py"})
OUTPUT = frozenset({"text", "json", ""})

_DIRECTIVE = re.compile(r"\A\s*<!--\s*docs-runner:(?P<body>.*?)-->\s*\Z", re.DOTALL)
_PLACEHOLDER = re.compile(r"<(?P<hex>\d+) hex>|(?P<any>\u2026)")


class PageError(Exception):
    """A page the runner cannot read: a malformed or misplaced directive."""


@dataclass(frozen=True)
class Directive:
    """What a ``<!-- docs-runner: ... -->`` comment asks of the block after it."""

    kind: str  # "skip", "background", "file" or "clone"
    line: int
    reason: str = ""
    port: int = 0
    path: str = ""


@dataclass(frozen=True)
class Block:
    """One fenced block: its 1-based opening line, language, text, directive and expected output."""

    line: int
    lang: str
    text: str
    directive: Directive | None = None
    output: Block | None = None

    @property
    def runs(self) -> bool:
        """A shell or Python block: the runner runs it (unless it is skipped)."""
        return self.lang in SHELL or self.lang in PYTHON

    @property
    def where(self) -> str:
        """How a failure names the block."""
        return f"line {self.line} ({self.lang or 'no language'})"


def _directive(body: str, line: int) -> Directive:
    try:
        words = shlex.split(body)
    except ValueError as error:
        raise PageError(f"line {line}: docs-runner directive: {error}") from error
    if not words:
        raise PageError(f"line {line}: empty docs-runner directive")
    kind, args = words[0], dict(word.partition("=")[::2] for word in words[1:])
    allowed = {"skip": {"reason"}, "background": {"port"}, "file": {"path"}, "clone": set()}
    if kind not in allowed:
        raise PageError(
            f"line {line}: unknown docs-runner directive {kind!r} (skip, background, file, clone)"
        )
    if set(args) != allowed[kind] or not all(args.values()):
        needed = ", ".join(sorted(allowed[kind])) or "nothing"
        raise PageError(f"line {line}: docs-runner {kind} takes exactly: {needed}")
    if kind == "background":
        if not args["port"].isdigit():
            raise PageError(f"line {line}: docs-runner background port={args['port']!r} is no port")
        return Directive(kind, line, port=int(args["port"]))
    if kind == "file":
        path = Path(args["path"])
        if path.is_absolute() or ".." in path.parts:
            raise PageError(f"line {line}: docs-runner file path must stay in the page's folder")
        return Directive(kind, line, path=args["path"])
    return Directive(kind, line, reason=args.get("reason", ""))


@dataclass(frozen=True)
class Page:
    """A page's blocks, and whether it runs in a copy of the repository (``clone``)."""

    blocks: list[Block]
    clone: bool = False


def parse(text: str) -> Page:
    """Every fenced block of ``text`` in page order, each with its directive and expected output.

    An output block is attached to the block it follows and not listed on its own."""
    lines = text.split("\n")
    found: list[tuple[Block, int]] = []  # each block with the line after its closing fence
    pending: Directive | None = None
    clone = False
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "html_block" and (match := _DIRECTIVE.match(token.content)):
            assert token.map is not None
            if pending is not None:
                raise PageError(
                    f"line {pending.line}: a docs-runner directive with no block after it"
                )
            directive = _directive(match["body"], token.map[0] + 1)
            if directive.kind == "clone":
                clone = True
            else:
                pending = directive
        elif token.type in _CONTENT and pending is not None:
            raise PageError(
                f"line {pending.line}: a docs-runner directive not right before a block"
            )
        elif token.type in ("fence", "code_block"):
            assert token.map is not None
            start, end = token.map
            lang = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
            block = Block(start + 1, lang, token.content, pending)
            pending = None
            if found and _is_output(block, *found[-1], lines):
                previous = found[-1][0]
                found[-1] = (
                    Block(previous.line, previous.lang, previous.text, previous.directive, block),
                    end,
                )
            else:
                found.append((block, end))
    if pending is not None:
        raise PageError(f"line {pending.line}: a docs-runner directive with no block after it")
    blocks = [block for block, _ in found]
    for block in blocks:
        kind = block.directive.kind if block.directive else ""
        if kind == "background" and block.lang not in SHELL:
            raise PageError(f"line {block.line}: only a shell block runs in the background")
        if kind == "skip" and not block.runs:
            raise PageError(f"line {block.line}: docs-runner skip on a block that does not run")
    return Page(blocks, clone)


#: Tokens that put text between a directive and its block (the directive is then misplaced).
_CONTENT = frozenset({"paragraph_open", "heading_open", "hr", "table_open", "html_block"})


def _is_output(block: Block, previous: Block, previous_end: int, lines: list[str]) -> bool:
    """Whether ``block`` is the expected output of ``previous``: a text or JSON block after a
    shell or Python block, with only blank lines between."""
    return (
        previous.runs
        and previous.output is None
        and block.lang in OUTPUT
        and block.directive is None
        and all(not line.strip() for line in lines[previous_end : block.line - 1])
    )


def pattern(expected: str) -> re.Pattern[str]:
    """The regular expression an expected output stands for (placeholders in the module's doc)."""
    parts: list[str] = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        pieces, last = [], 0
        stripped = line.rstrip()
        for match in _PLACEHOLDER.finditer(stripped):
            pieces.append(re.escape(stripped[last : match.start()]))
            pieces.append(f"[0-9a-f]{{{match['hex']}}}" if match["hex"] else r"[^\n]*?")
            last = match.end()
        pieces.append(re.escape(stripped[last:]))
        parts.append("".join(pieces) + "\n")
    return re.compile("".join(parts))


def normalise(output: str) -> str:
    """Output as it is compared: trailing spaces of each line and blank lines at the end dropped."""
    return (
        "".join(line.rstrip() + "\n" for line in output.rstrip().split("\n"))
        if output.strip()
        else ""
    )


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` (a block's stdout and stderr) is what ``expected`` shows."""
    return pattern(expected).fullmatch(normalise(actual)) is not None


def masked(expected: str, actual: str) -> list[str]:
    """``actual``'s lines, each one that an expected line's placeholders match replaced by that
    expected line: a diff of the two then shows only the lines that really differ."""
    lines = normalise(expected).splitlines()
    patterns = [(line, pattern(line)) for line in lines if line.strip() != "..."]
    out = []
    for line in normalise(actual).splitlines():
        same = next((text for text, regex in patterns if regex.fullmatch(line + "\n")), None)
        out.append(line if same is None else same)
    return out
