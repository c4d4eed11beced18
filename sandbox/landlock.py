"""Landlock: which files a confined call may open, where the kernel has it (Linux 5.13+).

The seccomp allow-list lets a confined call open files read-only: C libraries read
their data (locales, time zones, their own files). Read-only is not harmless
everywhere: reading `/proc/<parent>/fd/0` takes the input another process was
waiting for, `/dev/tty` the user's keystrokes, `/proc/kmsg` the kernel's messages.
So, where Landlock exists, the child may open only the system's libraries and
configuration, Python's own files and the call's library, and nothing at all under
/proc, /dev (but the random and null devices) or a home. Where it does not, the
other layers stay (no terminal after setsid, no capabilities, the seccomp filter),
and `restrict_reads` answers False.

Standard library only (ctypes).
"""

from __future__ import annotations

import os
import sys

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on aarch64
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
#: every filesystem right each ABI version knows: all of them are handled (denied
#: unless a rule allows them)
HANDLED = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
PR_SET_NO_NEW_PRIVS = 38
#: Folders a C library and Python read from: opened read-only, never written.
SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/opt",
          "/sys/devices/system/cpu")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")


_ABI: list[int] = []


def abi() -> int:
    """The kernel's Landlock ABI version; 0 where it has none (or it is disabled).
    Asked once per process (a forked child inherits the answer)."""
    if not _ABI:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                               ctypes.c_uint32(CREATE_RULESET_VERSION))
        _ABI.append(max(0, version))
    return _ABI[0]


_READABLE: list[list[str]] = []


def readable() -> list[str]:
    """The folders a confined call may read: the system's and Python's. Found once per
    process (a forked child inherits the list instead of looking again)."""
    if not _READABLE:
        python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        python |= {p for p in sys.path if p and os.path.isdir(p)}
        _READABLE.append(sorted(set(SYSTEM) | python))
    return _READABLE[0]


def restrict_reads(extra: tuple[str, ...] = ()) -> bool:
    """Let this process (and what it starts) open only `readable()` folders, DEVICES
    and the `extra` files, for reading. Irreversible. False where Landlock is missing."""
    import ctypes

    version = abi()
    if version < 1:
        return False
    handled = HANDLED[max(v for v in HANDLED if v <= version)]
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr, its first field
    ruleset = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), ctypes.byref(attr),
                           ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        for path in readable():
            _allow(libc, ruleset, path, EXECUTE | READ_FILE | READ_DIR)
        for path in (*DEVICES, *extra):
            _allow(libc, ruleset, path, READ_FILE | (EXECUTE if path in extra else 0))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed")
        if libc.syscall(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return True


def _allow(libc, ruleset: int, path: str, access: int) -> None:
    """A rule for what is at `path`, if anything is: the rights a file can have when it
    is a file, those of a folder when it is one."""
    import ctypes
    import stat

    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= EXECUTE | READ_FILE
        raw = access.to_bytes(8, "little") + fd.to_bytes(4, "little", signed=True)
        buf = ctypes.create_string_buffer(raw, 12)  # struct landlock_path_beneath_attr
        if libc.syscall(ctypes.c_long(SYS_ADD_RULE), ctypes.c_int(ruleset),
                        ctypes.c_int(RULE_PATH_BENEATH), buf, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
