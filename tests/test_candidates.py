"""Ranking header functions for a message, and which sources each parameter may take."""

from __future__ import annotations

from proto_cli.learn.candidates import (
    FOCUSED_CANDIDATES,
    MAX_CANDIDATES,
    name_score,
    options_for,
    rank,
    words,
)
from proto_cli.learn.headers import prototypes
from proto_cli.learn.need import Need


def test_selector_words():
    assert words("arcTangentOf:over:") == ["arc", "tangent"]
    assert words("sha512Of:") == ["sha", "512"]
    assert words("compareFirst:of:with:") == ["compare", "first"]


def test_names_that_abbreviate_score_higher():
    assert name_score("strcmp", ["compare"]) > name_score("strlen", ["compare"])
    assert name_score("fabs", ["absolute"]) > 0.7
    assert name_score("tolower", ["lowercase"]) > name_score("toupper", ["lowercase"])


def test_focused_when_names_point_the_way_and_broad_otherwise():
    protos = prototypes("math.h")
    focused = rank(protos, Need("cubeRootOf:", (27,), "math.h", "libm.so.6"))
    assert len(focused) == FOCUSED_CANDIDATES and focused[0].name == "cbrt"
    broad = rank(prototypes("stdlib.h"), Need("parseHex:", ("ff",), "stdlib.h", "libc.so.6"))
    assert len(broad) == MAX_CANDIDATES
    assert any(p.name.startswith("strto") for p in broad)


def test_float_and_long_double_twins_are_not_offered():
    names = {p.name for p in rank(prototypes("math.h"),
                                  Need("cubeRootOf:", (27.0,), "math.h", "libm.so.6"), 200)}
    assert "cbrt" in names and "cbrtf" not in names and "cbrtl" not in names


def test_locale_twins_are_not_offered():
    names = {p.name for p in rank(prototypes("ctype.h"),
                                  Need("isLower:", (97,), "ctype.h", "libc.so.6"), 200)}
    assert "islower" in names and "islower_l" not in names


def test_a_length_only_follows_a_pointer():
    protos = {p.name: p for p in prototypes("zlib.h")}
    need = Need("crc32Of:", ("hello",), "zlib.h", "libz.so.1")
    crc, buf, length = options_for(protos["crc32"], need)
    assert "len(arg1)" not in crc  # the running value is not a length
    assert buf == ["arg1", "NULL"]
    assert "len(arg1)" in length


def test_direct_selector_names_its_function():
    need = Need("call_c_strlen:", ("abc",), "string.h", "libc.so.6")
    assert [p.name for p in rank(prototypes("string.h"), need)] == ["strlen"]


def test_names_the_words_explain_whole_rank_first():
    assert name_score("sin", ["sine"]) > name_score("asin", ["sine"])
    assert name_score("exp", ["exponential"]) > name_score("nextafter", ["exponential"])
    assert name_score("labs", ["long", "absolute"]) > name_score("malloc", ["long", "absolute"])
    # A namespace prefix most of a header shares is not part of what a name says.
    assert name_score("sqlite3_threadsafe", ["thread", "safety"], "sqlite3_") > \
        name_score("sqlite3_thread_cleanup", ["thread", "safety"], "sqlite3_")


def test_prompt_lines_are_short_c():
    from proto_cli.learn.headers import Param, Prototype
    from proto_cli.learn.prompt import line

    params = [Param("arg0", "const unsigned char *", "unsigned char", 1, True, 16),
              Param("__n", "long unsigned int", "long unsigned int", 0, False, None),
              Param("out", "char *", "char", 1, False, None)]
    proto = Prototype("f", Param("", "unsigned char *", "unsigned char", 1, False, None),
                      params, False, "", [])
    assert line(proto) == "unsigned char *f(const unsigned char v[16], unsigned long n, char *out)"
