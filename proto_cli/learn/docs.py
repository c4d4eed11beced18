"""One short line of documentation per C function, for the prompt and the ranking.

A prototype says what a function takes, rarely what it does: `crc32_combine` and
`crc32_combine_op` look alike. Per name, the line comes from the section-3 manual page's
NAME line (libc, libm, libuuid), else from the comment that documents the declaration in
the file that declares it (found through the preprocessor's line markers, so only those
files are read). Headers and `apropos` output are untrusted text: every line returned is
one printable line of at most MAX_CHARS. Missing docs are normal and never an error.
Both sources are cached as JSON, keyed by what they were read from, so a repeated call
runs no process and parses nothing.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable

from image_format.files import cache_home, write_whole

from . import headers

CACHE_VERSION = 1
MAX_CHARS = 100
MAX_FILE_BYTES = 4 << 20  # a header is read no further (a huge or binary file)
MAX_COMMENT = 64 << 10  # a comment is cleaned no further
MAX_APROPOS_BYTES = 16 << 20
APROPOS_TIMEOUT = 10
# What the man-db index is built from, and the index itself: the man cache's key.
MAN_STAMPS = ("/var/cache/man/index.db", "/var/cache/man/index.bt", "/var/cache/man/index.dir",
              "/usr/share/man/man3", "/usr/local/share/man/man3")
NOT_C_SECTIONS = {"3perl", "3pm", "3o", "3tcl", "3tk"}  # other languages' library pages
MAX_FINDS = 5000  # occurrences of a name looked at in one file
GROUP_LINES = 60  # a comment documents the declarations up to this many lines below it

_IDENT = re.compile(r"[A-Za-z_]\w*")
_MARKER = re.compile(r'^# \d+ "((?:[^"\\\n]|\\.)*)"[^\n]*\n?', re.M)
_CALLISH = re.compile(r"([A-Za-z_]\w*)\s*\(")
_LEX = re.compile(r"/\*.*?(?:\*/|\Z)|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w*)(?:[^\n]*\\\n)*[^\n]*", re.M)
_CONDITIONAL = {"if", "ifdef", "ifndef", "elif", "elifdef", "elifndef", "else", "endif"}
_APROPOS_LINE = re.compile(r"^(\S+) +\((3\w*)\) +- +(.*)$")
_OPEN = re.compile(r"\A(?:/\*+|//+)[!<]?")
_DECOR = re.compile(r"^\s*(?:\*+(?!/)|//+[!<]?)?[ \t]?")
_BLOCK_OPEN = re.compile(r"<(pre|table)\b|[\\@](code)\b", re.I)  # to `</pre>`, `\endcode`
_HTML = re.compile(r"</?(?:a|b|i|p|pre|ul|ol|li|dl|dt|dd|blockquote|table|tr|td|th|br|tt|code"
                   r"|em|strong|h[1-6]|div|span|sup|sub)\b[^<>]{0,200}>", re.I)
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9_]{2,}):\s*(.*)$")
_DOXY_LINE = re.compile(r"^[\\@](\w+)\b")
_DOXY_KEEP = {"brief", "short", "details"}
_LINK = re.compile(r"(?<![\w\]])\[([^\[\]|\n]{0,80}\|)?\s*([^\[\]|\n]{1,80})\]")
_INLINE_CMD = re.compile(r"(?<!\w)[\\@](?:p|b|c|a|e|em|ref|n)(?!\w)\s*")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "approx", "resp", "no", "eg", "ie"}
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_SUBJECT = re.compile(r"(?:The\s+)?([A-Za-z_]\w*)(?:\s*\([^()]*\))?(?:\s*\[\])?"
                      r"(?:\s+(?:interface|function|routine|macro|API|call|method)s?)?\s+(.+)",
                      re.S)
_PUNCT = re.compile(r"[();{}]")
_CALL_AFTER = re.compile(r"(?!\w)\s*(?:OF\s*)?\(")
_HEDGES = {"should", "might", "may", "must", "can", "could", "will", "would", "shall", "has",
           "have", "only", "also"}
_VERB_STOP = {"and", "or", "is", "was", "has", "as", "its", "this", "these", "does"}


def docs_for(header: str, names: Iterable[str]) -> dict[str, str]:
    """name -> one-line description, for the names that have one."""
    wanted = [n for n in dict.fromkeys(names) if isinstance(n, str) and _IDENT.fullmatch(n)]
    if not wanted:
        return {}
    man_key = _man_key()
    path = _cache_path("header", header, os.environ.get("CPATH", ""),
                       os.environ.get("C_INCLUDE_PATH", ""))
    entry = _load(path)
    if not _fresh(entry, man_key):
        entry = _scan(header, man_key)
        if entry is None:
            return {}
    declared, docs, files = entry["declared"], entry["docs"], entry["files"]
    todo = [n for n in wanted if n in declared and n not in docs]
    if todo:
        man = _man_index(man_key)
        sources: dict[str, _Source | None] = {}
        for name in todo:
            line = man.get(name)
            if not line:
                file = files[declared[name]][0]
                if file not in sources:
                    sources[file] = _Source.read(file)
                source = sources[file]
                line = source.doc(name) if source else None
            docs[name] = line or ""
        _store(path, entry)
    found = {n: docs[n] for n in wanted if isinstance(docs.get(n), str) and docs[n]}
    return {n: _one_line(line) for n, line in found.items()}  # even from an edited cache


# -- caching ---------------------------------------------------------------------------

def _cache_path(kind: str, *key: object) -> str:
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, *key]).encode()).hexdigest()
    return os.path.join(cache_home(), "docs", f"{kind}-{digest[:32]}.json")


def _load(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _store(path: str, data: dict) -> None:
    with contextlib.suppress(OSError):  # a cache we cannot write is only slower
        write_whole(path, json.dumps(data))


def _stamp(path: str) -> list | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [path, st.st_mtime_ns, st.st_size]


def _fresh(entry: dict | None, man_key: list) -> bool:
    """Whether a header's cache entry still describes the files it was read from."""
    try:
        return (entry is not None and entry["version"] == CACHE_VERSION
                and entry["man"] == man_key and isinstance(entry["declared"], dict)
                and isinstance(entry["docs"], dict)
                and all(_stamp(f[0]) == f for f in entry["files"]))
    except (KeyError, TypeError, IndexError):
        return False


# -- manual pages ----------------------------------------------------------------------

def _man_key() -> list:
    """What the section-3 index depends on, known without running anything."""
    return [shutil.which("apropos") or "", os.environ.get("MANPATH", ""),
            *(_stamp(p) for p in MAN_STAMPS)]


def _man_index(key: list) -> dict[str, str]:
    """name -> NAME line of its section-3 manual page: one `apropos` for all of them."""
    path = _cache_path("man", key)
    cached = _load(path)
    if cached is not None:
        return cached
    index: dict[str, str] = {}
    if key[0]:
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        env.pop("LANGUAGE", None)
        try:
            done = subprocess.run([key[0], "-l", "-s", "3", "."], capture_output=True,
                                  timeout=APROPOS_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
            text = done.stdout[:MAX_APROPOS_BYTES].decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError):
            text = ""
        index = _parse_apropos(text)
    _store(path, index)
    return index


def _parse_apropos(text: str) -> dict[str, str]:
    best: dict[str, tuple[int, str]] = {}
    for raw in text.splitlines():
        m = _APROPOS_LINE.match(raw)
        if not m or m.group(2) in NOT_C_SECTIONS:
            continue
        line = _one_line(m.group(3))
        rank = 0 if m.group(2) == "3" else 1
        if line and (m.group(1) not in best or rank < best[m.group(1)][0]):
            best[m.group(1)] = (rank, line)
    return {name: line for name, (_, line) in best.items()}


# -- the header's files ----------------------------------------------------------------

def _scan(header: str, man_key: list) -> dict | None:
    """Which file declares each name the header declares, from cpp's line markers."""
    try:
        text = headers._cpp(header, "-E", *headers.GCC_STUBS)
    except (headers.HeaderError, OSError, UnicodeError, subprocess.SubprocessError):
        return None
    files: list[list] = []
    index: dict[str, int] = {}
    declared: dict[str, int] = {}
    current = None
    for i, part in enumerate(_MARKER.split(text)):
        if i % 2:
            path = re.sub(r"\\(.)", r"\1", part)
            current = index.get(path)
            if current is None and os.path.isabs(path):
                stamp = _stamp(path)
                if stamp is not None:
                    current = index[path] = len(files)
                    files.append(stamp)
        elif current is not None:
            for m in _CALLISH.finditer(part):
                declared.setdefault(m.group(1), current)
    return {"version": CACHE_VERSION, "man": man_key, "files": files, "declared": declared,
            "docs": {}}


def _read(path: str) -> str | None:
    """A regular file's first MAX_FILE_BYTES as text (never blocks on a FIFO or device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_FILE_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace")


class _Source:
    """One header file's text, with its comments and directives located."""

    def __init__(self, text: str) -> None:
        self.text = text
        spans: list[tuple[int, int]] = []

        def blank(m: re.Match) -> str:
            s = m.group()
            if s[0] in "\"'":
                return s
            spans.append((m.start(), m.end()))
            return "\n".join(" " * len(line) for line in s.split("\n"))

        code = _LEX.sub(blank, text)
        self.comments = _merge_line_comments(spans, text)
        self.starts = [s for s, _ in self.comments]
        self.ends = [e for _, e in self.comments]
        self.directives: list[tuple[int, int, str]] = []

        def hide(m: re.Match) -> str:
            self.directives.append((m.start(), m.end(), m.group(1)))
            return "#" + "\n".join(" " * len(x) for x in m.group()[1:].split("\n"))

        self.code = _DIRECTIVE.sub(hide, code)  # comments and directives blanked
        self.directive_starts = [d[0] for d in self.directives]
        self._positions: dict[str, list[int]] | None = None
        self._cleaned: dict[int, list[list[str]]] = {}

    @classmethod
    def read(cls, path: str) -> _Source | None:
        text = _read(path)
        return cls(text) if text is not None else None

    def doc(self, name: str) -> str | None:
        """The line that documents `name`: (a) a comment right after its declaration,
        (b) a pseudo-declaration in a comment followed by prose (zlib), (c) a comment
        right before it or its group (sqlite, doxygen, glibc), (d) a comment whose
        sentence has the name as subject."""
        decls = self._declarations(name)
        for _, end in decls:
            i = bisect.bisect_left(self.starts, end)
            if i < len(self.comments) and self.starts[i] - end < 200 \
                    and not self.text[end + 1:self.starts[i]].strip() \
                    and self.text.count("\n", end, self.starts[i]) <= 1 and self._trails(i):
                line = _first_line(self._paragraphs(i), name)
                if line:
                    return line
        mentions = self._mentions(name)
        for i, at in mentions:
            line = self._pseudo_declaration(i, at, name)
            if line:
                return line
        for start, _ in decls:
            i = self._comment_before(start)
            if i is not None:
                paras = self._paragraphs(i)
                line = (_subject_line(paras, name, plain=True) or _first_line(paras, name)
                        or _subject_line(paras, name))
                if line:
                    return line
        for i in dict.fromkeys(i for i, _ in mentions[:20]):
            line = _subject_line(self._paragraphs(i), name)
            if line:
                return line
        return None

    def _declarations(self, name: str) -> list[tuple[int, int]]:
        """(statement start, end) of each declaration of `name` in the code."""
        if self._positions is None:
            self._positions = {}
            for m in _IDENT.finditer(self.code):
                self._positions.setdefault(m.group(), []).append(m.start())
        out = []
        code = self.code
        for at in self._positions.get(name, [])[:20]:
            after = code[at + len(name):at + len(name) + 200].lstrip()
            if re.match(r"OF\b", after):
                after = after[2:].lstrip()
            if not (after[:1] in ("(", ",")
                    or after[:1] == ")" and self._code_before(at) == "("):
                continue  # not `f (...)`, nor `MACRO (f, ...)` or `__exctype (f)`
            low = max(0, at - 8192)  # the statement starts after the last `;{}` or directive
            start = max(low - 1, *(code.rfind(ch, low, at) for ch in ";{}#")) + 1
            head = code[start:at]
            start += len(head) - len(head.lstrip())
            if "=" in head or re.search(r"\breturn\b", head):
                continue
            end = _statement_end(code, at)
            if end is not None:
                out.append((start, end))
        return out

    def _trails(self, i: int) -> bool:
        """Whether comment i belongs to the declaration before it (zlib style): it
        follows a `;` on the same or the next line and is not attached to code below."""
        start, end = self.comments[i]
        j = self._last_code(start)
        if j < 0 or self.code[j] != ";" or self.code.count("\n", j, start) > 1:
            return False
        if "\n" not in self.code[j:start]:
            return True  # `int f(void); /* ... */`
        gap = re.match(r"\s*", self.text[end:end + 4096]).group()
        nxt = self.text[end + len(gap):end + len(gap) + 2]
        return gap.count("\n") >= 2 or not nxt or nxt[0] in "#}" or nxt in ("/*", "//")

    def _last_code(self, pos: int) -> int:
        """Where the last code character before `pos` is (-1: none)."""
        stop = max(0, pos - MAX_COMMENT)  # past that much blank, as good as none
        while pos > stop:
            chunk = self.code[max(stop, pos - 512):pos]
            kept = len(chunk.rstrip())
            if kept:
                return pos - len(chunk) + kept - 1
            pos -= len(chunk)
        return -1

    def _code_before(self, pos: int) -> str:
        j = self._last_code(pos)
        return self.code[j] if j >= 0 else ""

    def _comment_before(self, start: int) -> int | None:
        """The comment just above a declaration, or above the group it belongs to."""
        i = bisect.bisect_right(self.ends, start) - 1
        for _ in range(50):  # past `#endif /* X */` and parameters' `int n, /* count */`
            if i < 0 or not (self._in_directive(self.starts[i])
                             or self._code_before(self.starts[i]) not in "#;{}"):
                break
            i -= 1
        else:
            return None
        if i < 0 or self._trails(i):
            return None
        end = self.ends[i]
        if start - end > 200 * GROUP_LINES:
            return None
        gap = self.code[end:start]
        if "{" in gap or "}" in gap or gap.count("\n") > GROUP_LINES:
            return None
        lo = bisect.bisect_left(self.directive_starts, end)
        hi = bisect.bisect_left(self.directive_starts, start)
        if any(kind not in _CONDITIONAL for _, _, kind in self.directives[lo:hi]):
            return None
        rest = gap.replace("#", "").strip()
        if rest and not rest.endswith(";"):
            return None
        group = self.text[end:start].lstrip()  # a blank line ends a group (expat)
        return None if re.search(r"\n[ \t]*\n", group) else i

    def _in_directive(self, pos: int) -> bool:
        j = bisect.bisect_right(self.directive_starts, pos) - 1
        return j >= 0 and self.directives[j][0] <= pos < self.directives[j][1]

    def _mentions(self, name: str) -> list[tuple[int, int]]:
        """(comment index, offset) of each `name(` written in a comment."""
        out: list[tuple[int, int]] = []
        text = self.text
        at = text.find(name)
        for _ in range(MAX_FINDS):
            if at < 0 or len(out) >= 50:
                break
            before = text[at - 1] if at else " "
            if not (before.isalnum() or before == "_") and _CALL_AFTER.match(text, at + len(name)):
                i = bisect.bisect_right(self.starts, at) - 1
                if i >= 0 and at < self.ends[i] and not self._in_directive(self.starts[i]):
                    out.append((i, at))
            at = text.find(name, at + 1)
        return out

    def _pseudo_declaration(self, i: int, at: int, name: str) -> str | None:
        """zlib writes documented declarations inside a comment, prose after them:
        `/* ZEXTERN uLong ZEXPORT crc32_combine OF((...));  Combine two ... */`."""
        text = self.text
        line_start = text.rfind("\n", self.starts[i], at) + 1
        if at - line_start > 300:
            return None
        prefix = _OPEN.sub("", text[max(line_start, self.starts[i]):at]).lstrip(" \t*/")
        if not re.fullmatch(r"(?:[A-Za-z_]\w*[\s*]+)+", prefix):
            return None  # prose or a call, not a return type and qualifiers
        end = self.ends[i]
        depth, pos = 0, text.index("(", at)
        while pos < end and pos < at + 2000:
            ch = text[pos]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            pos += 1
        else:
            return None
        semi = re.match(r"\)\s*;", text[pos:pos + 100])
        if not semi:
            return None
        paras = _paragraphs(text[pos + semi.end():end])
        return _first_line(paras, name)

    def _paragraphs(self, i: int) -> list[list[str]]:
        if i not in self._cleaned:
            start, end = self.comments[i]
            self._cleaned[i] = _paragraphs(self.text[start:min(end, start + MAX_COMMENT)])
        return self._cleaned[i]


def _merge_line_comments(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Consecutive `//` lines are one comment."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and text.startswith("//", start) and text.startswith("//", out[-1][0]):
            between = text[out[-1][1]:start]
            if not between.strip() and between.count("\n") == 1:
                out[-1] = (out[-1][0], end)
                continue
        out.append((start, end))
    return out


def _statement_end(code: str, at: int) -> int | None:
    """The `;` ending the declaration at `at` (or the `}` ending an inline definition)."""
    depth = 0
    braces = 0
    for m in _PUNCT.finditer(code, at, min(len(code), at + 20000)):
        ch = m.group()
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth > 0:
            continue
        elif ch == ";" and braces == 0:
            return m.start()
        elif ch == "{":
            braces += 1
        elif ch == "}":
            braces -= 1
            if braces <= 0:
                return m.start()
        if m.start() > at + 4000 and braces == 0:
            return None
    return None


# -- comment text ----------------------------------------------------------------------

def _paragraphs(comment: str) -> list[list[str]]:
    """A comment's prose as paragraphs of sentences: decoration, sqlite's and doxygen's
    markup, code blocks, tag lines (`CAPI3REF:` keeps its title) and parameter lists
    removed."""
    body = _OPEN.sub("", comment[:MAX_COMMENT])
    body = body[:-2] if body.endswith("*/") else body
    body = "\n".join(_DECOR.sub("", line, 1) for line in body.split("\n"))
    body = _drop_blocks(body)
    body = _HTML.sub(" ", body)
    paras: list[str] = []
    current: list[str] = []
    skipping = False

    def flush() -> None:
        if current:
            paras.append(" ".join(current))
            current.clear()

    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            flush()
            skipping = False
            continue
        tag = _TAG_LINE.match(line)
        if tag:
            flush()
            if not paras:
                paras.append(tag.group(2))  # `CAPI3REF: title`
            skipping = False
            continue
        cmd = _DOXY_LINE.match(line)
        if cmd:
            flush()
            skipping = cmd.group(1).lower() not in _DOXY_KEEP
            line = line[cmd.end():].strip()
        if not skipping and line:
            current.append(line)
    flush()
    return [s for s in (_sentences(_markup(p)) for p in paras) if s]


def _drop_blocks(text: str) -> str:
    """Without code and tables (`<pre>`...`</pre>`, `\\code`...`\\endcode`): linear even
    when a block is never closed."""
    out: list[str] = []
    at = 0
    while (m := _BLOCK_OPEN.search(text, at)) is not None:
        out.append(text[at:m.start()])
        tag = (m.group(1) or m.group(2)).lower()
        close = re.compile(f"</{tag}>" if tag != "code" else r"[\\@]endcode\b", re.I)
        end = close.search(text, m.end())
        if end is None:
            return "".join(out)
        out.append("\n\n")
        at = end.end()
    out.append(text[at:])
    return "".join(out)


def _markup(text: str) -> str:
    text = text.replace("^(", "").replace(")^", "")
    text = re.sub(r"(?<!\w)\^(?=\S)", "", text)
    text = _LINK.sub(lambda m: m.group(2).strip(), text)
    text = _INLINE_CMD.sub("", text)
    text = re.sub(r"(?<![\w:])::(?=[A-Za-z_])", "", text)
    return " ".join(html.unescape(text).split())


def _sentences(text: str) -> list[str]:
    out = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        word = text[max(start, m.start() - 12):m.start()].rsplit(None, 1)[-1:] or [""]
        if m.group() == "." and word[0].lower().lstrip("(") in _ABBREVIATIONS:
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return [s for s in out if s]


def _subject(sentence: str, name: str) -> re.Match | None:
    """`The NAME(args) interface RESTS...` / `NAME returns ...`: the name as subject."""
    m = _SUBJECT.match(sentence)
    return m if m and m.group(1) == name else None


def _predicate(sentence: str, name: str) -> str | None:
    """`Returns ...` for `The NAME() function returns ...`: what it does, when the
    sentence says so with a verb (`returns`, `checks`), not `NAME() should ...`."""
    m = _subject(sentence, name)
    if not m:
        return None
    rest = m.group(2)
    verb = rest.split(None, 1)[0]
    if verb.isalpha() and verb.islower() and verb.endswith("s") and verb not in _VERB_STOP:
        return rest[0].upper() + rest[1:]
    return None


def _subject_line(paras: list[list[str]], name: str, plain: bool = False) -> str | None:
    """The first sentence about `name` (with `plain`: one that says what it is or does,
    not what it `should`, `might` or `has`)."""
    for para in paras:
        for sentence in para:
            m = _subject(sentence, name)
            if m and not (plain and m.group(2).split(None, 1)[0] in _HEDGES):
                return _finish(sentence, name)
    return None


def _first_line(paras: list[list[str]], name: str) -> str | None:
    for para in paras:
        for sentence in para:
            line = _finish(sentence, name)
            if line:
                return line
    return None


def _finish(sentence: str, name: str) -> str | None:
    """A sentence as the line to show: the name as subject dropped (`deflate compresses`
    -> `Compresses`), printable, bounded; None when it says too little."""
    sentence = _predicate(sentence, name) or sentence
    if sentence[:1].islower() and not sentence.endswith((".", "!", "?", ":")):
        return None  # a section heading (`/* checksum functions */`), not a description
    line = _one_line(sentence[:4 * MAX_CHARS])
    return line if line and len(line.split()) >= 2 else None


def _one_line(text: str) -> str:
    """Printable, one line, at most MAX_CHARS (cut on a word, marked with `...`)."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS - 3]
    space = cut.rfind(" ")
    if space > MAX_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "..."
