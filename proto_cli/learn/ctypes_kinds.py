"""What a C parameter or return type is, for marshalling: number, text, buffer, pointer."""

from __future__ import annotations

INTEGER_WORDS = {"char", "short", "int", "long", "signed", "unsigned", "_Bool", "size_t",
                 "ssize_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
                 "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "ptrdiff_t", "off_t"}
REAL_WORDS = {"float", "double"}
CHAR_BASES = {"char", "signed char", "unsigned char", "const char", "void"}


def is_integer(param) -> bool:
    return param.pointer == 0 and all(w in INTEGER_WORDS for w in param.base.split())


def is_real(param) -> bool:
    return param.pointer == 0 and any(w in REAL_WORDS for w in param.base.split())


def is_char_pointer(param) -> bool:
    """char*, unsigned char*, void*: memory a string or bytes argument can fill."""
    return param.pointer == 1 and param.base in CHAR_BASES


def is_output_buffer(param) -> bool:
    return param.pointer == 1 and not param.const and (
        param.base in CHAR_BASES or is_integer_base(param.base) or param.base == "double")


def is_integer_base(base: str) -> bool:
    return all(w in INTEGER_WORDS for w in base.split())


def is_void(param) -> bool:
    return param.pointer == 0 and param.base == "void"
