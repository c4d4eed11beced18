"""Exact fractions, as Pharo answers `4 / 3`: Python's `fractions.Fraction`, imported
only when the first one is made (it costs more start-up than a whole `proto send`).

Arithmetic that lands on a whole number answers an integer: `(1/2) * 2` is 1, as in
Smalltalk, never a fraction with denominator 1.
"""

from __future__ import annotations


def is_fraction(value: object) -> bool:
    t = type(value)
    return t.__name__ == "Fraction" and t.__module__ == "fractions"


def a_number(value: object) -> bool:
    """An integer, float or fraction (not a boolean: `1 + true` is no 2)."""
    t = type(value)
    return t is int or t is float or is_fraction(value)


def exact(value: object) -> object:
    """A fraction that is whole as an int; anything else as it is."""
    if is_fraction(value) and value.denominator == 1:
        return value.numerator
    return value


def fraction(numerator: int, denominator: int) -> object:
    """numerator / denominator exactly: an int when it divides, else a Fraction."""
    if numerator % denominator == 0:
        return numerator // denominator
    from fractions import Fraction

    return Fraction(numerator, denominator)
