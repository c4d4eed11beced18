"""The prompt: role, FFI rules, worked examples, then the header's candidates and the need.

The system text and the examples never change between calls, so llama.cpp can
reuse their evaluation (in-process, and across processes through its disk
cache); only the last user turn is new. The answer is constrained by a JSON
schema built from the candidates: the function is one of their names and each
parameter's source one the parameter's type allows.
"""

from __future__ import annotations

import hashlib
import json

from .candidates import accepts_constant, converter_of, options_for
from .headers import Prototype
from .need import Need

SYSTEM = (
    "You connect Smalltalk-style messages to functions of a C library. You get the message, "
    "its arguments and candidate C functions from the library's real header, each with the "
    "line that documents it where there is one. Answer with JSON only, in this order:\n"
    '- "oracle": one Python expression over arg1, arg2... that computes the answer the '
    "message asks for with Python's standard library (math, cmath, zlib, binascii, hashlib, "
    "struct, uuid, fnmatch, unicodedata, string, calendar, sqlite3, base64, "
    "xml.parsers.expat, ctype for C's character classes...) or the header's constants, "
    "with no import; null when Python has "
    "no such computation. Decide what the message means before you pick the function;\n"
    '- "test": {"inputs": the message\'s own arguments when you can compute the answer '
    'for them, else arguments for which you are sure of it, "expect": that answer, or null '
    "when you cannot compute it exactly (checksums, hashes, bit patterns)};\n"
    '- "function": the candidate that does what the message asks;\n'
    '- "args": one entry per C parameter, in order, saying where its value comes from: '
    '"arg1", "arg2"... (the message\'s arguments, in any order the function needs), '
    '"len(arg1)" (an argument\'s length in bytes), "F(arg1)" (the argument parsed by the '
    'converter F first), "NULL", "out" (a buffer the function '
    "fills; the method answers its contents), or an integer constant;\n"
    '- "out_size": the byte size of an "out" buffer, when there is one and its size is '
    "not fixed by its type.\n"
    "As in Smalltalk, a selector starting with \"is\" or \"has\" asks a yes/no question (C "
    "answers nonzero for yes; test it with an input whose answer is no, since many "
    "functions answer nonzero); any other selector asks for a value, such as a converted "
    "number or character.\n"
    "A parameter the message does not supply takes a neutral constant: 0 for a starting "
    "value, seed or flags, NULL for a pointer nobody needs. Prefer double over float or "
    "long double functions for numbers.\n"
    'Asked for an oracle only, answer {"oracle": the expression, or null}.'
)

#: Oracle-only questions, asked when a proposal came without a usable oracle: the
#: meaning of the message in Python, apart from any choice of C function.
ORACLE_EXAMPLES: list[tuple[dict, dict]] = [
    ({"library": "libm.so.6", "header": "math.h", "message": "cubeOf: 3.0",
      "args": ["arg1 = 3.0 (float)"]}, {"oracle": "arg1 ** 3"}),
    ({"library": "libtext.so.1", "header": "text.h", "message": "isVowel: 101",
      "args": ["arg1 = 101 (int)"]}, {"oracle": "chr(arg1) in 'aeiouAEIOU'"}),
    ({"library": "libb64.so.0", "header": "b64.h", "message": "base64Of: 'hi'",
      "args": ["arg1 = 'hi' (str)"]}, {"oracle": "base64.b64encode(arg1.encode()).decode()"}),
    ({"library": "libgeo.so.1", "header": "geo.h", "message": "distanceFrom: 3.0 to: 7.5",
      "args": ["arg1 = 3.0 (float)", "arg2 = 7.5 (float)"]}, {"oracle": "abs(arg2 - arg1)"}),
    ({"library": "libtext.so.1", "header": "text.h", "message": "indexOf: 'b' in: 'abc'",
      "args": ["arg1 = 'b' (str)", "arg2 = 'abc' (str)"]}, {"oracle": "arg2.find(arg1)"}),
]

EXAMPLES: list[tuple[dict, dict]] = [
    (
        {"library": "libm.so.6", "header": "math.h", "message": "squareRootOf: 16.0",
         "args": ["arg1 = 16.0 (float)"],
         "candidates": ["double sqrt(double x)  // square root function",
                        "double cbrt(double x)  // cube root function",
                        "float sqrtf(float x)  // square root function",
                        "double exp(double x)  // base-e exponential function",
                        "double pow(double x, double y)  // power functions"]},
        {"oracle": "math.sqrt(arg1)", "test": {"inputs": [16.0], "expect": 4.0},
         "function": "sqrt", "args": ["arg1"]},
    ),
    (
        {"library": "libc.so.6", "header": "string.h", "message": "compareBytes: 'abc' with: 'abd'",
         "args": ["arg1 = 'abc' (str)", "arg2 = 'abd' (str)"],
         "candidates": ["int memcmp(const void *s1, const void *s2, unsigned long n)"
                        "  // compare memory areas",
                        "int strcmp(const char *s1, const char *s2)  // compare two strings",
                        "void *memchr(const void *s, int c, unsigned long n)"
                        "  // scan memory for a character",
                        "unsigned long strlen(const char *s)  // calculate the length of a "
                        "string"]},
        {"oracle": None, "test": {"inputs": ["abc", "abc"], "expect": 0},
         "function": "memcmp", "args": ["arg1", "arg2", "len(arg1)"]},
    ),
    (
        {"library": "libc.so.6", "header": "stdlib.h", "message": "parseBinary: '1101'",
         "args": ["arg1 = '1101' (str)"],
         "candidates": ["long strtol(const char *nptr, char **endptr, int base)"
                        "  // convert a string to a long integer",
                        "unsigned long strtoul(const char *nptr, char **endptr, int base)"
                        "  // convert a string to an unsigned long integer",
                        "int atoi(const char *nptr)  // convert a string to an integer",
                        "double atof(const char *nptr)  // convert a string to a double"]},
        {"oracle": "int(arg1, 2)", "test": {"inputs": ["1101"], "expect": 13},
         "function": "strtoul", "args": ["arg1", "NULL", 2]},
    ),
    (
        {"library": "libdate.so.2", "header": "date.h", "message": "isLeapYear: 1900",
         "args": ["arg1 = 1900 (int)"],
         "candidates": ["int date_is_leap(int year)  // Nonzero if year is a leap year.",
                        "int date_days_in_year(int year)  // The number of days in a year.",
                        "int date_is_valid(int year)  // Nonzero if the year is in range."]},
        {"oracle": "calendar.isleap(arg1)", "test": {"inputs": [1900], "expect": False},
         "function": "date_is_leap", "args": ["arg1"]},
    ),
    (
        {"library": "libxxhash.so.0", "header": "xxhash.h", "message": "hashOf: 'abc'",
         "args": ["arg1 = 'abc' (str)"],
         "candidates": ["unsigned int XXH32(const void *input, unsigned long length, "
                        "unsigned int seed)",
                        "unsigned long XXH64(const void *input, unsigned long length, "
                        "unsigned long seed)",
                        "unsigned int XXH_versionNumber(void)"]},
        {"oracle": None, "test": {"inputs": ["abc"], "expect": None},
         "function": "XXH32", "args": ["arg1", "len(arg1)", 0]},
    ),
    (
        {"library": "libcrypto.so.3", "header": "openssl/md5.h", "message": "md5Of: 'abc'",
         "args": ["arg1 = 'abc' (str)"],
         "candidates": ["unsigned char *MD5(const unsigned char *d, unsigned long n, "
                        "unsigned char *md)",
                        "int MD5_Init(MD5_CTX *c)",
                        "int MD5_Final(unsigned char *md, MD5_CTX *c)"],
         "constants": ["MD5_DIGEST_LENGTH = 16", "MD5_CBLOCK = 64"]},
        {"oracle": "hashlib.md5(arg1.encode()).digest()",
         "test": {"inputs": ["abc"], "expect": None},
         "function": "MD5", "args": ["arg1", "len(arg1)", "out"], "out_size": 16},
    ),
    (
        {"library": "libfoo.so.1", "header": "foo.h", "message": "versionString",
         "args": [],
         "candidates": ["const char *foo_version(void)  // The library's version as text.",
                        "int foo_version_number(void)  // The library's version as a number.",
                        "const char *foo_last_error(void)  // The last error message."],
         "constants": ['FOO_VERSION = "2.1.0"', "FOO_VERSION_NUMBER = 20100"]},
        {"oracle": "FOO_VERSION", "test": {"inputs": [], "expect": "2.1.0"},
         "function": "foo_version", "args": []},
    ),
]


#: An oracle is one short expression; past this the model is running on, not computing.
ORACLE_SCHEMA = {"anyOf": [{"type": "string", "maxLength": 120}, {"type": "null"}]}


def oracle_text(task: dict) -> str:
    lines = [f"Oracle only. Library: {task['library']} (header {task['header']})",
             f"Message: {task['message']}"]
    lines += [f"  {a}" for a in task["args"]] or ["  (no arguments)"]
    if task.get("constants"):
        lines.append("Constants:")
        lines += [f"  {c}" for c in task["constants"]]
    return "\n".join(lines)


def task_text(task: dict) -> str:
    lines = [f"Library: {task['library']} (header {task['header']})",
             f"Message: {task['message']}"]
    lines += [f"  {a}" for a in task["args"]] or ["  (no arguments)"]
    lines.append("Candidates:")
    lines += [f"  {c}" for c in task["candidates"]]
    if task.get("converters"):
        lines.append("Converters:")
        lines += [f"  {c}" for c in task["converters"]]
    if task.get("constants"):
        lines.append("Constants:")
        lines += [f"  {c}" for c in task["constants"]]
    return "\n".join(lines)


SHORT_TYPES = {"long unsigned int": "unsigned long", "long int": "long",
               "long long int": "long long", "long long unsigned int": "unsigned long long",
               "short int": "short", "short unsigned int": "unsigned short"}


def line(proto: Prototype) -> str:
    """A prototype as a C programmer writes it, in as few tokens as it takes: short type
    spellings, no invented parameter names, no glibc reserved underscores."""
    params = [_param(p) for p in proto.params] or ["void"]
    if proto.variadic:
        params.append("...")
    returns = _type(proto.returns.ctype)
    return f"{returns}{'' if returns.endswith('*') else ' '}{proto.name}({', '.join(params)})"


def _type(ctype: str) -> str:
    base = ctype.rstrip(" *")
    stars = ctype[len(base):].replace(" ", "")
    for long, short in SHORT_TYPES.items():
        if base == long or base.endswith(" " + long):
            base = base[: len(base) - len(long)] + short
            break
    return f"{base} {stars}" if stars else base


def _param(param) -> str:
    name = param.name.lstrip("_")
    if name.startswith("arg") and name[3:].isdigit():
        name = ""  # the header gave none; the parser numbered it
    if param.array:  # uuid_t: the size is what matters
        const = "const " if param.const else ""
        return f"{const}{_type(param.base)} {name or 'v'}[{param.array}]"
    ctype = _type(param.ctype)
    if not name:
        return ctype
    return f"{ctype}{name}" if ctype.endswith("*") else f"{ctype} {name}"


def need_task(need: Need, candidates: list[Prototype], constants: list[str],
              docs: dict[str, str] | None = None) -> dict:
    used = {converter_of(o) for p in candidates for opts in options_for(p, need) for o in opts}
    docs = docs or {}
    return {"library": need.library, "header": need.header, "message": need.message_text(),
            "args": need.describe_args(),
            "candidates": [documented(p, docs) for p in candidates],
            "converters": [line(c) for c in need.converters if c.name in used],
            "constants": constants}


def documented(proto: Prototype, docs: dict[str, str]) -> str:
    """The prototype and, where the system documents it, its one line."""
    doc = docs.get(proto.name)
    return f"{line(proto)}  // {doc}" if doc else line(proto)


def messages(need: Need, candidates: list[Prototype], constants: list[str],
             docs: dict[str, str] | None = None) -> list[dict]:
    out = [{"role": "system", "content": SYSTEM}]
    for task, answer in EXAMPLES:
        out.append({"role": "user", "content": task_text(task)})
        out.append({"role": "assistant", "content": json.dumps(answer, separators=(",", ":"))})
    out.append({"role": "user", "content": task_text(need_task(need, candidates, constants,
                                                               docs))})
    return out


def oracle_question(fixed: list[dict], need: Need, constants: list[str]
                    ) -> tuple[list[dict], dict]:
    """(messages, schema) asking for the message's oracle alone, after the same fixed
    prefix as a proposal (llama.cpp reuses its evaluation)."""
    task = {"library": need.library, "header": need.header, "message": need.message_text(),
            "args": need.describe_args(), "constants": constants}
    schema = {"type": "object", "properties": {"oracle": ORACLE_SCHEMA}, "required": ["oracle"]}
    shots = []  # after the shared prefix: in it, they made proposals' oracles null more often
    for example, answer in ORACLE_EXAMPLES:
        shots.append({"role": "user", "content": oracle_text(example)})
        shots.append({"role": "assistant", "content": json.dumps(answer, separators=(",", ":"))})
    return fixed + shots + [{"role": "user", "content": oracle_text(task)}], schema


def correction(answer: str, feedback: str, repeated: bool = False,
               test_failed: str = "") -> list[dict]:
    """The turns that tell the model its last answer failed, verbatim. When the test
    failed, the test may be what is wrong, not the function: say so."""
    again = ("You gave this same answer before and it failed the same way: change the "
             "function, the args, the oracle or the expected value.\n" if repeated else "")
    which = (f"Either {test_failed} is the wrong function, or your oracle or expected value "
             f"is wrong: if the result it gave is what the message asks for, keep "
             f"{test_failed} and correct them; otherwise choose another function.\n"
             if test_failed else "")
    return [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": f"That binding failed when it was run: {feedback}\n"
                                    f"{which}{again}"
                                    "Answer again with a corrected JSON (expect null if you "
                                    "cannot compute the result exactly)."},
    ]


def schema(need: Need, candidates: list[Prototype]) -> dict:
    """A JSON schema whose every instance names a candidate and fits its parameters."""
    input_types = {"int": {"type": "integer"}, "float": {"type": "number"},
                   "bool": {"type": "boolean"}, "str": {"type": "string"},
                   "bytes": {"type": "string"}, "pointer": {"type": "null"},
                   "nil": {"type": "null"}}
    test = {
        "type": "object",
        "properties": {
            "inputs": {"type": "array", "prefixItems": [input_types[k] for k in need.kinds],
                       "minItems": len(need.kinds), "maxItems": len(need.kinds)},
            "expect": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"},
                                 {"type": "null"}]},
        },
        "required": ["inputs", "expect"],
    }
    alternatives = []
    for proto in candidates:
        items = []
        needs_size = False
        for param, options in zip(proto.params, options_for(proto, need), strict=True):
            item: dict = {"enum": options} if options else {"type": "integer"}
            if options and accepts_constant(param):
                item = {"anyOf": [{"enum": options}, {"type": "integer"}]}
            items.append(item)
            needs_size = needs_size or ("out" in options and not param.array)
        props = {"oracle": ORACLE_SCHEMA, "test": test,
                 "function": {"const": proto.name},
                 "args": {"type": "array", "prefixItems": items, "minItems": len(items),
                          "maxItems": len(items)}}
        required = ["oracle", "test", "function", "args"]
        if needs_size:
            props["out_size"] = {"type": "integer"}
            required.append("out_size")
        alternatives.append({"type": "object", "properties": props, "required": required})
    return {"anyOf": alternatives} if len(alternatives) > 1 else alternatives[0]


def prompt_hash(msgs: list[dict]) -> str:
    return hashlib.sha256(json.dumps(msgs, sort_keys=True).encode()).hexdigest()
