"""proto: a world of Self-style prototype objects in one portable image file."""

from .host import install as _install

_install()  # the host API stored code may call (world/host_api.py)
