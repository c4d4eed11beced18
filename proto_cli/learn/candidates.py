"""Which header functions could answer a message, ranked so the prompt stays small.

A function is a candidate when every message argument can go to a distinct
parameter of a fitting C type and every other parameter can be filled without
the message (a length, NULL, an output buffer, or a constant). Candidates are
ranked by how well their names abbreviate the selector's words (`cmp` for
"compare", `abs` for "absolute"), then by how exactly the types fit.
"""

from __future__ import annotations

from itertools import permutations

from . import ctypes_kinds as K
from .headers import Prototype
from .need import Need

MAX_CANDIDATES = 20  # when names say little (`parseHex:`), the model's knowledge must choose
FOCUSED_CANDIDATES = 6  # when some name clearly abbreviates the selector
FOCUS_SCORE = 0.75
COVERAGE_WEIGHT = 0.5
STOP_WORDS = {"of", "with", "and", "to", "by", "for", "the", "a", "an", "from", "in", "on",
              "at", "as", "into", "value", "over"}


def options_for(proto: Prototype, need: Need) -> list[list[str]]:
    """Each parameter's possible sources. A length only goes to an integer parameter that
    follows a pointer (C's `buf, len` convention): `crc32(crc, buf, len)` keeps `crc`
    for a constant, as a person reading the header would."""
    out = []
    seen_pointer = False
    for param in proto.params:
        out.append(param_options(param, need, lengths=seen_pointer))
        seen_pointer = seen_pointer or param.pointer > 0
    return out


def param_options(param, need: Need, lengths: bool = True) -> list[str]:
    """The sources a parameter may take: message arguments, lengths, NULL, out, const."""
    opts: list[str] = []
    for i, kind in enumerate(need.kinds, 1):
        arg = f"arg{i}"
        if kind == "nil":  # nil is C's NULL: it goes to a pointer, never to a number
            if param.pointer:
                opts.append(arg)
            continue
        if K.is_integer(param):
            if kind in ("int", "bool"):
                opts.append(arg)
            elif kind in ("str", "bytes") and lengths:
                opts.append(f"len({arg})")
        elif K.is_real(param):
            if kind in ("int", "float"):
                opts.append(arg)
        elif K.is_char_pointer(param):
            # Text is no fixed-size binary value (uuid_t): it goes through a converter.
            if kind == "bytes" or (kind == "str" and not param.array):
                opts.append(arg)
        elif param.pointer and kind == "pointer":
            opts.append(arg)
    if param.pointer == 1 and param.const and param.array:
        for conv in need.converters:
            out = conv.params[1]
            if out.base == param.base and out.array == param.array:
                opts += [f"{conv.name}(arg{i})" for i, kind in enumerate(need.kinds, 1)
                         if kind == "str"]
    if param.pointer:
        if K.is_output_buffer(param):
            opts.append("out")
        if not (param.array and param.const):  # a uuid_t to read is never "no uuid"
            opts.append("NULL")
    return opts


def converters(protos: list[Prototype]) -> list[Prototype]:
    """Functions that parse text into a fixed-size value other functions take, like
    `int uuid_parse(const char *in, uuid_t uu)`: a message can then pass text where a
    function wants that value, and the binding calls the converter first."""
    return [p for p in protos if len(p.params) == 2 and K.is_integer(p.returns)
            and p.params[0].pointer == 1 and p.params[0].const
            and p.params[0].base in ("char", "const char")
            and p.params[1].pointer == 1 and not p.params[1].const
            and p.params[1].array and p.params[1].base not in ("char", "const char")]


def argument_of(source: object) -> int | None:
    """The message argument a parameter source uses: 1 for `arg1`, `len(arg1)`, `f(arg1)`."""
    if not isinstance(source, str):
        return None
    at = source.rfind("arg")
    digits = source[at + 3:].rstrip(")") if at >= 0 else ""
    return int(digits) if digits.isdigit() else None


def converter_of(source: object) -> str | None:
    """`uuid_parse` for the source `uuid_parse(arg1)`."""
    if isinstance(source, str) and source.endswith(")") and not source.startswith("len("):
        return source.split("(", 1)[0]
    return None


def accepts_constant(param) -> bool:
    return K.is_integer(param)


def fits(proto: Prototype, need: Need) -> float | None:
    """How well the message's arguments fit the parameters (None: they cannot)."""
    if proto.variadic or len(proto.params) > 8:
        return None
    options = options_for(proto, need)
    for p, opts in zip(proto.params, options, strict=True):
        if not opts and not accepts_constant(p):
            return None
    n = len(need.args)
    if n > len(proto.params):
        return None
    best = None
    for chosen in permutations(range(len(proto.params)), n):
        score = 0.0
        ok = True
        for i, pi in enumerate(chosen, 1):
            if f"arg{i}" not in options[pi] and f"arg{i})" not in "".join(
                    o for o in options[pi] if converter_of(o)):
                ok = False  # neither the argument itself nor it through a converter
                break
            score += _type_fit(proto.params[pi], need.kinds[i - 1])
            if pi == i - 1:
                score += 0.1  # same order as the message
        if ok:
            extra = len(proto.params) - n
            score -= 0.3 * extra
            best = score if best is None else max(best, score)
    return best


def _type_fit(param, kind: str) -> float:
    if kind == "float":
        return 1.0 if param.base == "double" else 0.5
    if kind == "int":
        return 1.0 if K.is_integer(param) else 0.6
    if kind in ("str", "bytes"):
        return 1.0 if param.const else 0.4
    return 0.5


def words(selector: str) -> list[str]:
    """Lower-case words of a selector: `arcTangentOf:over:` -> arc, tangent."""
    out: list[str] = []
    current = ""
    for ch in selector.replace("_", ":"):
        if ch == ":" or (ch.isupper() and current and not current[-1].isupper()):
            if current:
                out.append(current.lower())
            current = "" if ch == ":" else ch
        elif ch.isdigit() and current and not current[-1].isdigit():
            out.append(current.lower())
            current = ch
        else:
            current += ch
    if current:
        out.append(current.lower())
    return [w for w in out if w not in STOP_WORDS]


def name_score(name: str, selector_words: list[str], prefix: str = "") -> float:
    """How well the function name abbreviates the selector's words: the words it covers,
    plus the share of the name they explain (`sin` is all `sine`; `asin` is not)."""
    lname = name.lower()
    total = 0.0
    covered: set[int] = set()
    body = len(prefix) if lname.startswith(prefix) else 0
    for word in selector_words:
        best, at = 0, 0
        for start in range(body, len(lname)):
            if lname[start] != word[0]:
                continue
            length = _abbreviation_length(lname[start:], word)
            if length > best:
                best, at = length, start
        if best >= 2 or (best == 1 and len(word) == 1):
            total += min(1.0, best / min(len(word), 4))
            covered.update(range(at, at + best))
        elif lname[body:body + 1] == word[0]:
            total += 0.25  # a leading letter alone, as C abbreviates (`labs`: long abs)
            covered.add(body)
    letters = sum(ch.isalpha() for ch in lname[body:]) or 1
    return total + COVERAGE_WEIGHT * min(1.0, len(covered) / letters)


def common_prefix(names: list[str]) -> str:
    """A namespace prefix most of a header's functions share (`sqlite3_`, `uuid_`)."""
    counts: dict[str, int] = {}
    for name in names:
        head, sep, _ = name.lower().partition("_")
        if sep and head:
            counts[head + "_"] = counts.get(head + "_", 0) + 1
    if not counts:
        return ""
    prefix, n = max(counts.items(), key=lambda kv: kv[1])
    return prefix if n >= 0.3 * len(names) else ""


def _abbreviation_length(text: str, word: str) -> int:
    """Length of the longest prefix of `text` whose letters appear in order in `word`."""
    j = 0
    for i, ch in enumerate(text):
        j = word.find(ch, j)
        if j < 0:
            return i
        j += 1
    return len(text)


def rank(protos: list[Prototype], need: Need, limit: int | None = None,
         docs: dict[str, str] | None = None) -> list[Prototype]:
    """The candidates for a need, best first; fewer when names or documentation already
    point the way (every candidate costs prompt tokens, the largest part of a cold
    learn). A function whose documentation says what the selector says ranks high
    whatever its name (`hypot`, "Euclidean distance function", for `distanceOf:to:`)."""
    if need.direct:
        return [p for p in protos if p.name == need.direct]
    names = {p.name for p in protos}
    sel_words = words(need.selector)
    prefix = common_prefix(sorted(names))
    docs = docs or {}
    scored = []
    best = 0.0
    for proto in protos:
        if proto.name.startswith("_"):
            continue
        fit = fits(proto, need)
        if fit is None:
            continue
        if _is_precision_twin(proto, names) or _is_locale_twin(proto, names):
            continue  # sinf/sinl (Python numbers are doubles), isalpha_l (a locale_t more)
        named = name_score(proto.name, sel_words, prefix)
        said = relevance(sel_words, "", docs.get(proto.name, ""))
        best = max(best, named, said)
        scored.append((2.0 * named + DOC_WEIGHT * said + fit, proto.name, proto))
    scored.sort(key=lambda t: (-t[0], t[1]))
    if limit is None:
        limit = FOCUSED_CANDIDATES if best >= FOCUS_SCORE else MAX_CANDIDATES
    return [p for _, _, p in scored[:limit]]


DOC_WEIGHT = 1.5
NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "eight": "8", "ten": "10", "sixteen": "16"}


def relevance(selector_words: list[str], name: str, doc: str, spelled: bool = True) -> float:
    """The share of the selector's words that the function's name parts or its documented
    line say too (`tangent` in "arc tangent function"; `two` as 2), and with `spelled`,
    words its name spells run together (`islower`)."""
    if not selector_words:
        return 0.0
    tokens = {_token(t) for t in _tokens(doc)} | {_token(t) for t in _tokens(
        " ".join(words(name.replace("_", ":"))))}
    tokens.discard("")
    joined: set[str] = set()
    for part in words(name.replace("_", ":")) if spelled else ():
        joined |= _spelled_together(part, selector_words)
    hits = sum(w in joined or any(_same_word(_token(w), t) for t in tokens)
               for w in selector_words)
    return hits / len(selector_words)


def _spelled_together(part: str, selector_words: list[str]) -> set[str]:
    """The selector's words a name part spells run together, each whole or by a start of
    three letters or more (`islower`: is, lower(case)); none unless all of it is spelled."""
    covers: list[set[str] | None] = [set()] + [None] * len(part)
    for end in range(1, len(part) + 1):
        for start in range(end):
            before = covers[start]
            if before is None:
                continue
            piece = part[start:end]
            word = next((w for w in selector_words if w == piece or (
                len(piece) >= 3 and w.startswith(piece))), None)
            if word is not None:
                covers[end] = before | {word}
                break
    return covers[-1] or set()


def _tokens(text: str) -> list[str]:
    out, current = [], ""
    for ch in text.lower():
        if ch.isalnum():
            if current and ch.isdigit() != current[-1].isdigit():
                out.append(current)
                current = ""
            current += ch
        elif current:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return [t for t in out if t not in STOP_WORDS]


def _token(word: str) -> str:
    return NUMBER_WORDS.get(word, word)


def _same_word(a: str, b: str) -> bool:
    """One word, or one abbreviating the other from its start (`tan`, `tangent`); digits
    only as whole numbers."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit() or min(len(a), len(b)) < 3:
        return False
    return a.startswith(b) or b.startswith(a) or (len(a) >= 5 and len(b) >= 5
                                                  and a[:5] == b[:5])


def _is_precision_twin(proto: Prototype, names: set[str]) -> bool:
    """`cbrtf`/`cbrtl` next to `cbrt`: the float and long double variants of a function."""
    if proto.name[-1] not in "fl" or proto.name[:-1] not in names:
        return False
    kinds = [p.base for p in proto.params if p.pointer == 0] + [proto.returns.base]
    return any(k in ("float", "long double") for k in kinds)


def _is_locale_twin(proto: Prototype, names: set[str]) -> bool:
    """POSIX `isalpha_l`, `strcoll_l`...: the same function with an explicit locale."""
    return proto.name.endswith("_l") and proto.name[:-2] in names
