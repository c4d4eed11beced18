"""One-line docs per C function: manual pages first, then the declaring header's comments."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from proto_cli.learn import docs, headers

HAS_APROPOS = shutil.which("apropos") is not None


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def one_line(text: str) -> bool:
    return 0 < len(text) <= docs.MAX_CHARS and text.isprintable() and text == text.strip()


def test_math_prefers_the_manual_page_and_tells_asin_from_asinh():
    got = docs.docs_for("math.h", ["round", "rint", "asin", "asinh"])
    assert "away from zero" in got["round"]
    assert "hyperbolic" in got["asinh"].lower()
    assert "hyperbolic" not in got["asin"].lower()
    assert got["rint"]
    assert all(one_line(v) for v in got.values())


@pytest.mark.skipif(not HAS_APROPOS, reason="no apropos (man-db) on this machine")
def test_manual_page_name_line_is_used_as_is():
    got = docs.docs_for("math.h", ["round"])
    assert got["round"] == "round to nearest integer, away from zero"


def test_zlib_documents_inside_and_after_comments():
    got = docs.docs_for("zlib.h", ["crc32_combine", "adler32", "deflate"])
    assert got["crc32_combine"].startswith("Combine two CRC-32")  # declaration in a comment
    assert "Adler-32" in got["adler32"]  # comment right after the declaration
    assert got["deflate"].startswith("Compresses")  # `deflate compresses ...` -> subject dropped


def test_sqlite_prefers_the_sentence_about_the_function():
    got = docs.docs_for("sqlite3.h", ["sqlite3_keyword_check", "sqlite3_libversion_number"])
    assert "keyword" in got["sqlite3_keyword_check"]
    assert "sqlite3_keyword_check" not in got["sqlite3_keyword_check"]
    assert got["sqlite3_libversion_number"]
    assert not any(mark in v for v in got.values() for mark in ("**", "CAPI3REF", "^", "["))


def test_lzma_doxygen_brief_in_an_included_file():
    got = docs.docs_for("lzma.h", ["lzma_version_number"])
    assert "version" in got["lzma_version_number"]
    assert "\\brief" not in got["lzma_version_number"]


def test_names_without_docs_are_absent():
    got = docs.docs_for("zlib.h", ["crc32", "zError", "no_such_function_here", "not an id"])
    assert "crc32" in got
    assert "zError" not in got  # only under `/* undocumented functions */`, a heading
    assert "no_such_function_here" not in got and "not an id" not in got


def test_unknown_header_gives_nothing():
    assert docs.docs_for("no/such/header_for_proto_tests.h", ["round", "frob"]) == {}
    assert docs.docs_for("zlib.h", []) == {}


def test_second_call_runs_nothing(monkeypatch):
    first = docs.docs_for("zlib.h", ["crc32", "adler32", "zError"])

    def refuse(*args, **kwargs):
        raise AssertionError("a cached call must not run a process or reread the header")

    monkeypatch.setattr(headers, "_cpp", refuse)
    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(docs._Source, "read", refuse)
    assert docs.docs_for("zlib.h", ["crc32", "adler32", "zError"]) == first


def test_conventions_in_a_header_of_our_own(tmp_path):
    header = tmp_path / "conv.h"
    header.write_text(
        "/* checksum functions */\n\n"
        "int trailing(int x);\n"
        "/*\n   Update the running total. More text.\n*/\n\n"
        "/*\nint pseudo(int a, int b);\n\n   Combine two totals into one.\n*/\n\n"
        "/**\n * \\brief       Make a widget\n *\n * Long details.\n */\n"
        "int brief(void);\n\n"
        "/*\n** CAPI3REF: Widget Group\n** KEYWORDS: widgets\n**\n"
        "** These routines handle [widget | widgets].  ^The grouped_b(X) routine\n"
        "** returns the <b>size</b> of X.\n*/\n"
        "int grouped_a(int x);\nint grouped_b(int x,\n  int y   /* the y */\n);\n"
        "int grouped_c(int x);\n\n"
        "int loner(int x);\n"
        "#ifdef SOMETHING\n#endif /* SOMETHING */\n"
        "int after_directive(int x);\n"
        "/* clear.c */\nint filename_only(int x);\n"
        "#define SOMETHING 1\nint pseudo(int a, int b);\n"
    )
    names = ["trailing", "pseudo", "brief", "grouped_a", "grouped_b", "grouped_c", "loner",
             "after_directive", "filename_only"]
    got = docs.docs_for(str(header), names)
    assert got["trailing"] == "Update the running total."
    assert got["brief"] == "Make a widget"
    assert got["grouped_a"] == "Widget Group"
    assert got["grouped_b"] == "Returns the size of X."
    assert got["grouped_c"] == "Widget Group"  # past the parameter's comment
    assert got["pseudo"] == "Combine two totals into one."
    for name in ("loner", "after_directive", "filename_only"):
        assert name not in got, name


def test_hostile_header_gives_bounded_printable_lines(tmp_path):
    header = tmp_path / "evil.h"
    with open(header, "wb") as f:
        f.write(b"/* Frobs \x1b[31mthe\x07 widget\r\n and \xe2\x80\xae back\x00 \xff\xfe text. */\n")
        f.write(b"int frob(int x);\n\n")
        f.write(b"/* Huge " + b"word " * 200_000 + b" */\nint huge(int x);\n")
        f.write(b"/* " + b"flood( " * 50_000 + b" */\nint flood(int x);\n")
    got = docs.docs_for(str(header), ["frob", "huge", "flood"])
    assert set(got) >= {"frob", "huge"}
    assert all(one_line(v) for v in got.values())
    assert got["frob"].startswith("Frobs") and "\x1b" not in got["frob"]
    assert got["huge"].endswith("...")
