"""Errors an image can raise; each carries a one-line message fit for a user."""

from __future__ import annotations


class ImageError(Exception):
    """The image file is missing, unreadable, corrupt or of an unknown format."""


class DecodeError(ImageError):
    """A stored value is not valid in the safe encoding (corruption, not user error)."""


class EncodeError(ValueError):
    """A value cannot be stored: it has no safe encoding."""


class ReadOnlyImage(ImageError):
    """A change was attempted on an image opened for reading only."""


class DamagedImage(ImageError):
    """LMDB found a page it cannot use (bit rot, a bad copy): the file is damaged."""
