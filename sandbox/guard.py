"""The seccomp filters a program installs on itself before it runs untrusted native code.

Why: the sandbox hides the host, so a C call that would change it (run `rm`,
connect to a port, truncate a file, signal a process, set the hostname) merely
*fails* inside, and a test can expect that failure and pass. A binding that passes
is then run unsandboxed, in the user's process, with the user's arguments. So
these calls must not fail quietly during verification: the filter kills the
process with SIGSYS, which the verifier reports as ``forbidden``. What is left
allowed is what a computation needs: memory, reading files, time, randomness,
threads, writing to stdout/stderr, signals to itself.

Killed (SIGSYS, the whole process), by group:

process   fork, vfork, clone without CLONE_THREAD (threads stay allowed), execve(at)
network   socket() of any family but AF_UNIX
files     creating, writing, truncating, renaming, linking, removing or re-moding files:
          open/openat with a write flag (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND),
          creat, truncate, unlink, rename, mkdir, chmod, chown, utimes, xattrs...
fds       writes to any descriptor but stdout, stderr and the ones the caller allows
          (write, pwrite, writev...), ftruncate, fallocate, dup2/dup3, splice, sendfile
          (a descriptor number means something else on the host: the image, a socket)
others    signals to another process (kill, tgkill... unless to itself), ptrace,
          process_vm_*, priorities and limits of another process, System V and POSIX
          IPC objects (they outlive the process)
system    mount, reboot, sethostname, settimeofday, modules, keyrings, chroot, chdir...
abi       any other system-call ABI than the native one (i386, x32)

Answered ENOSYS: clone3, io_uring_setup and openat2, whose arguments a filter cannot
read (glibc falls back to clone and openat, which it can).

Standard library only (ctypes): the file is copied into the sandbox and imported
there. Linux on x86_64 or aarch64; elsewhere ``install`` raises GuardUnavailable.
"""

from __future__ import annotations

import os
import platform
import struct

# BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h)
_LD_W_ABS = 0x20
_JEQ = 0x15
_JGE = 0x35
_JSET = 0x45
_RET = 0x06
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
ENOSYS = 38
CLONE_THREAD = 0x00010000
AF_UNIX = 1
WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000  # O_WRONLY O_RDWR O_CREAT O_TRUNC O_APPEND
X32_BIT = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# offsets in struct seccomp_data: nr, arch, ip, args[6] (little-endian low words)
_NR, _ARCH = 0, 4


def _arg(i: int) -> int:
    return 16 + 8 * i


#: The calls the filter kills outright, by group (those an architecture lacks are skipped).
KILLED: dict[str, tuple[str, ...]] = {
    "process": ("fork", "vfork", "execve", "execveat"),
    "files": ("creat", "truncate", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
              "rmdir", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "chmod",
              "fchmodat", "fchmodat2", "chown", "lchown", "fchownat", "mknod", "mknodat",
              "utime", "utimes", "futimesat", "utimensat", "setxattr", "lsetxattr",
              "removexattr", "lremovexattr"),
    "fds": ("ftruncate", "fallocate", "fchmod", "fchown", "fsetxattr", "fremovexattr",
            "flock", "dup2", "dup3", "sendfile", "copy_file_range", "splice", "tee",
            "vmsplice"),
    "others": ("shmget", "shmctl", "shmat", "msgget", "msgsnd", "msgctl", "semget", "semop",
               "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend", "pidfd_open",
               "pidfd_send_signal", "ptrace", "process_vm_writev", "process_vm_readv"),
    "system": ("sethostname", "setdomainname", "reboot", "acct", "mount", "umount2",
               "pivot_root", "swapon", "swapoff", "settimeofday", "clock_settime",
               "clock_adjtime", "adjtimex", "init_module", "finit_module", "delete_module",
               "kexec_load", "kexec_file_load", "syslog", "quotactl", "quotactl_fd", "unshare",
               "setns", "chroot", "chdir", "fchdir", "bpf", "keyctl", "add_key", "request_key",
               "ioperm", "iopl", "vhangup", "fsopen", "fsmount", "fsconfig", "move_mount",
               "open_tree", "mount_setattr", "fanotify_init", "name_to_handle_at",
               "open_by_handle_at", "lookup_dcookie"),
}
ENOSYS_CALLS = ("clone3", "io_uring_setup", "openat2")
#: name -> index of the open flags
OPENS = {"open": 1, "openat": 2}
WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2")
#: name -> index of the pid argument that must be this process
SELF_ONLY = {"kill": 0, "tkill": 0, "tgkill": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0}
#: name -> index of the pid argument that must be 0 (this process) or this process
SELF_OR_ZERO = {"setpriority": 1, "sched_setaffinity": 0, "sched_setscheduler": 0,
                "sched_setparam": 0, "sched_setattr": 0, "ioprio_set": 1, "prlimit64": 0,
                "migrate_pages": 0, "move_pages": 0}

# System-call numbers, from asm/unistd_64.h (x86_64) and asm-generic/unistd.h (aarch64).
_X86_64 = dict(
    fork=57, vfork=58, execve=59, execveat=322, creat=85, truncate=76, rename=82,
    renameat=264, renameat2=316, mkdir=83, mkdirat=258, rmdir=84, link=86, linkat=265,
    symlink=88, symlinkat=266, unlink=87, unlinkat=263, chmod=90, fchmodat=268, fchmodat2=452,
    chown=92, lchown=94, fchownat=260, mknod=133, mknodat=259, utime=132, utimes=235,
    futimesat=261, utimensat=280, setxattr=188, lsetxattr=189, removexattr=197,
    lremovexattr=198, ftruncate=77, fallocate=285, fchmod=91, fchown=93, fsetxattr=190,
    fremovexattr=199, flock=73, dup2=33, dup3=292, sendfile=40, copy_file_range=326,
    splice=275, tee=276, vmsplice=278, shmget=29, shmctl=31, shmat=30, msgget=68, msgsnd=69,
    msgctl=71, semget=64, semop=65, semtimedop=220, semctl=66, mq_open=240, mq_unlink=241,
    mq_timedsend=242, pidfd_open=434, pidfd_send_signal=424, ptrace=101,
    process_vm_writev=311, process_vm_readv=310, sethostname=170, setdomainname=171,
    reboot=169, acct=163, mount=165, umount2=166, pivot_root=155, swapon=167, swapoff=168,
    settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, init_module=175,
    finit_module=313, delete_module=176, kexec_load=246, kexec_file_load=320, syslog=103,
    quotactl=179, quotactl_fd=443, unshare=272, setns=308, chroot=161, chdir=80, fchdir=81,
    bpf=321, keyctl=250, add_key=248, request_key=249, ioperm=173, iopl=172, vhangup=153,
    fsopen=430, fsmount=432, fsconfig=431, move_mount=429, open_tree=428, mount_setattr=442,
    fanotify_init=300, name_to_handle_at=303, open_by_handle_at=304, lookup_dcookie=212,
    clone=56, clone3=435, socket=41, io_uring_setup=425, openat2=437, open=2, openat=257,
    write=1, pwrite64=18, writev=20, pwritev=296, pwritev2=328, kill=62, tkill=200,
    tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, setpriority=141,
    sched_setaffinity=203, sched_setscheduler=144, sched_setparam=142, sched_setattr=314,
    ioprio_set=251, prlimit64=302, migrate_pages=256, move_pages=279,
)
_AARCH64 = dict(
    execve=221, execveat=281, truncate=45, renameat=38, renameat2=276, mkdirat=34, linkat=37,
    symlinkat=36, unlinkat=35, fchmodat=53, fchmodat2=452, fchownat=54, mknodat=33,
    utimensat=88, setxattr=5, lsetxattr=6, removexattr=14, lremovexattr=15, ftruncate=46,
    fallocate=47, fchmod=52, fchown=55, fsetxattr=7, fremovexattr=16, flock=32, dup3=24,
    sendfile=71, copy_file_range=285, splice=76, tee=77, vmsplice=75, shmget=194, shmctl=195,
    shmat=196, msgget=186, msgsnd=189, msgctl=187, semget=190, semop=193, semtimedop=192,
    semctl=191, mq_open=180, mq_unlink=181, mq_timedsend=182, pidfd_open=434,
    pidfd_send_signal=424, ptrace=117, process_vm_writev=271, process_vm_readv=270,
    sethostname=161, setdomainname=162, reboot=142, acct=89, mount=40, umount2=39,
    pivot_root=41, swapon=224, swapoff=225, settimeofday=170, clock_settime=112,
    clock_adjtime=266, adjtimex=171, init_module=105, finit_module=273, delete_module=106,
    kexec_load=104, kexec_file_load=294, syslog=116, quotactl=60, quotactl_fd=443,
    unshare=97, setns=268, chroot=51, chdir=49, fchdir=50, bpf=280, keyctl=219, add_key=217,
    request_key=218, vhangup=58, fsopen=430, fsmount=432, fsconfig=431, move_mount=429,
    open_tree=428, mount_setattr=442, fanotify_init=262, name_to_handle_at=264,
    open_by_handle_at=265, lookup_dcookie=18, clone=220, clone3=435, socket=198,
    io_uring_setup=425, openat2=437, openat=56, write=64, pwrite64=68, writev=66, pwritev=70,
    pwritev2=287, kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138,
    rt_tgsigqueueinfo=240, setpriority=140, sched_setaffinity=122, sched_setscheduler=119,
    sched_setparam=118, sched_setattr=274, ioprio_set=30, prlimit64=261, migrate_pages=238,
    move_pages=239,
)
#: machine -> (AUDIT_ARCH value, system-call numbers)
ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, _X86_64),
    "aarch64": (0xC00000B7, _AARCH64),
}


class GuardUnavailable(RuntimeError):
    """This machine or kernel cannot install the filter; the message says why."""


def program(machine: str | None = None, pid: int | None = None,
            write_fds: tuple[int, ...] = (1, 2)) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for ``machine`` (default: this one),
    letting ``pid`` (default: this process) signal itself and ``write_fds`` be written."""
    machine, nrs, code = _prelude(machine, ARCHES)
    pid = os.getpid() if pid is None else pid
    code += [(_JEQ, "kill", 0, nrs[n]) for group in KILLED.values() for n in group if n in nrs]
    code += [(_JEQ, "enosys", 0, nrs[n]) for n in ENOSYS_CALLS]
    code += [(_JEQ, "clone", 0, nrs["clone"]), (_JEQ, "socket", 0, nrs["socket"])]
    code += [(_JEQ, f"open{i}", 0, nrs[n]) for n, i in OPENS.items() if n in nrs]
    code += [(_JEQ, "write", 0, nrs[n]) for n in WRITES]
    code += [(_JEQ, f"self{i}", 0, nrs[n]) for n, i in SELF_ONLY.items()]
    code += [(_JEQ, f"zero{i}", 0, nrs[n]) for n, i in SELF_OR_ZERO.items()]
    code += [
        (_RET, 0, 0, RET_ALLOW),
        ("clone",), (_LD_W_ABS, 0, 0, _arg(0)), (_JSET, "allow", "kill", CLONE_THREAD),
        ("socket",), (_LD_W_ABS, 0, 0, _arg(0)), (_JEQ, "allow", "kill", AF_UNIX),
        ("open1",), (_LD_W_ABS, 0, 0, _arg(1)), (_JSET, "kill", "allow", WRITE_FLAGS),
        ("open2",), (_LD_W_ABS, 0, 0, _arg(2)), (_JSET, "kill", "allow", WRITE_FLAGS),
        ("write",), (_LD_W_ABS, 0, 0, _arg(0)),
        *[(_JEQ, "allow", 0, fd) for fd in write_fds], (_RET, 0, 0, RET_KILL_PROCESS),
        ("self0",), (_LD_W_ABS, 0, 0, _arg(0)), (_JEQ, "allow", "kill", pid),
        ("zero0",), (_LD_W_ABS, 0, 0, _arg(0)), (_JEQ, "allow", 0, 0),
        (_JEQ, "allow", "kill", pid),
        ("zero1",), (_LD_W_ABS, 0, 0, _arg(1)), (_JEQ, "allow", 0, 0),
        (_JEQ, "allow", "kill", pid),
        ("allow",), (_RET, 0, 0, RET_ALLOW),
        ("enosys",), (_RET, 0, 0, RET_ERRNO | ENOSYS),
        ("kill",), (_RET, 0, 0, RET_KILL_PROCESS),
    ]
    return resolve(code)


def supported(machine: str | None = None) -> bool:
    """Whether the filters exist for this machine's architecture."""
    return (machine or platform.machine()) in ARCHES


def _prelude(machine: str | None, arches: dict) -> tuple[str, dict[str, int], list[tuple]]:
    """(machine, its system-call numbers, the first instructions): a foreign ABI (another
    architecture, x86_64's x32) is killed before any number is looked at. Assembled with
    labels (forward jumps only, as BPF requires), then resolved."""
    machine = machine or platform.machine()
    if machine not in arches:
        raise GuardUnavailable(f"no system-call guard for {machine} (x86_64 and aarch64 only)")
    arch, nrs = arches[machine]
    code: list[tuple] = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ, 0, "kill", arch),
                         (_LD_W_ABS, 0, 0, _NR)]
    if machine == "x86_64":
        code.append((_JGE, "kill", 0, X32_BIT))
    return machine, nrs, code


def resolve(code: list[tuple]) -> list[tuple[int, int, int, int]]:
    """Instructions with jumps to labels (a 1-tuple marks a label's place; forward jumps
    only, as BPF requires) as (code, jt, jf, k) with relative jumps."""
    labels: dict[str, int] = {}
    body: list[tuple] = []
    for item in code:
        if len(item) == 1:
            labels[item[0]] = len(body)
        else:
            body.append(item)

    def rel(target: int | str, at: int) -> int:
        jump = labels[target] - at - 1 if isinstance(target, str) else target
        if not 0 <= jump <= 255:
            raise GuardUnavailable(f"filter jump out of range ({jump}): the program is too long")
        return jump

    return [(op, rel(jt, at), rel(jf, at), k) for at, (op, jt, jf, k) in enumerate(body)]


def install(write_fds: tuple[int, ...] = (1, 2)) -> None:
    """Apply both filters to this process and everything it starts; irreversible: the
    calls the deny-list names kill it, those the allow-list does not name fail with
    EPERM. Only stdout, stderr and ``write_fds`` stay writable."""
    fds = tuple(dict.fromkeys((1, 2, *write_fds)))
    deny, allow = program(write_fds=fds), allow_program(write_fds=fds)
    load(deny)
    load(allow)


def load(instructions: list[tuple[int, int, int, int]]) -> None:
    """Apply a filter program to this process and everything it starts; irreversible."""
    import ctypes

    raw = b"".join(struct.pack("<HBBI", *ins) for ins in instructions)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Prog(len(instructions), ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.restype = ctypes.c_int
    ulong = ctypes.c_ulong
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        raise GuardUnavailable(f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    if libc.prctl(PR_SET_SECCOMP, ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), ulong(0),
                  ulong(0)) != 0:
        raise GuardUnavailable(f"seccomp filter refused by the kernel: errno "
                               f"{ctypes.get_errno()}")


# -- the allow-list ----------------------------------------------------------------------
# What a C computation needs; every other call fails with EPERM (the call answers its
# error, nothing it asked for happens). It is the whole filter of a confined call
# (confine.py: a learned method's call, in a child of the user's own process), and it
# is stacked under the deny-list above during verification, where the kernel applies
# the stricter answer of the two: the dangerous calls listed above are still killed
# (and reported as "forbidden" to the model), everything neither list names fails.
#
# memory    brk, mmap (private, not locked), munmap, mremap, mprotect, madvise of its
#           own pages (a confined child has no shared mapping left: confine.py unmaps
#           them before the filter, and it cannot make one)
# reading   open/openat without a write flag, read, pread, readv, lseek, close, stat
#           family, getdents64, readlink, access, getcwd, dup, fcntl F_GETFD/F_SETFD/
#           F_GETFL/F_DUPFD (a confined child inherits no descriptor but stdio on
#           /dev/null and its answer pipe: it reads only what it opened itself)
# writing   write to the given descriptors (the answer pipe) and stdout/stderr only
# time      clock_gettime and friends, nanosleep (the caller's deadline bounds it),
#           its own alarms and interval timers
# identity  getpid, getuid..., uname, getrandom, sched_getaffinity, getrlimit (reading)
# signals   its own handlers and mask; kill/tkill/tgkill to itself only
# threads   private futexes, rseq, robust lists, sched_yield (no clone: no new thread or
#           process; no futex shared with another process)
# exit      exit, exit_group
#
# So: no fork/clone/exec, socket or send*, ioctl (a terminal's flow or input queue),
# fcntl lock, flock, priority or limit of any process, signal to another process or
# group, chdir, umask, prctl, setsid, mount... A foreign architecture is killed.

EPERM = 1
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 1030

#: The allow-list: allowed whatever their arguments.
ALLOWED = (
    "brk", "munmap", "mremap", "mprotect", "pkey_mprotect",
    "read", "pread64", "readv", "preadv", "lseek", "close", "fstat", "stat", "lstat",
    "newfstatat", "statx", "getdents64", "readlink", "readlinkat", "access", "faccessat",
    "faccessat2", "getcwd", "dup",
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "times", "getrusage", "alarm", "getitimer", "setitimer",
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
    "uname", "getrandom", "sched_getaffinity", "sysinfo", "getrlimit",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "set_robust_list", "get_robust_list", "rseq", "sched_yield", "set_tid_address",
    "membarrier", "arch_prctl",
    "exit", "exit_group",
)
#: signalled only to this process itself
ALLOW_SELF = ("kill", "tkill", "tgkill")
#: futex operations on this process's own memory only (FUTEX_PRIVATE_FLAG, with or
#: without FUTEX_CLOCK_REALTIME): WAIT, WAKE, WAKE_OP, WAIT_BITSET, WAKE_BITSET. A
#: shared futex (another process's mutex in a file both map) could be requeued away.
FUTEX_OPS = tuple(op | 128 | clock for op in (0, 1, 5, 9, 10) for clock in (0, 256))
MAP_SHARED, MAP_LOCKED = 0x01, 0x2000  # no shared or locked mapping (MAP_SHARED_VALIDATE=3)
#: madvise advice that only concerns this process's own pages (not HWPOISON, REMOVE...)
MADVICE = (0, 1, 2, 3, 4, 8, 14, 15, 16, 17)

_ALLOW_X86_64 = dict(
    read=0, write=1, open=2, close=3, stat=4, fstat=5, lstat=6, lseek=8, mmap=9, mprotect=10,
    munmap=11, brk=12, rt_sigaction=13, rt_sigprocmask=14, rt_sigreturn=15, pread64=17,
    getitimer=36, alarm=37, setitimer=38, readv=19, access=21, sched_yield=24, mremap=25,
    madvise=28, dup=32, nanosleep=35,
    getpid=39, exit=60, kill=62, uname=63, fcntl=72, getcwd=79, readlink=89,
    gettimeofday=96, getrlimit=97, getrusage=98, sysinfo=99, times=100, getuid=102,
    getgid=104, geteuid=107, getegid=108, getppid=110, getgroups=115, sigaltstack=131,
    arch_prctl=158, gettid=186, tkill=200, time=201, futex=202, sched_getaffinity=204,
    getdents64=217, set_tid_address=218, restart_syscall=219, clock_gettime=228,
    clock_getres=229, clock_nanosleep=230, exit_group=231, tgkill=234, openat=257,
    newfstatat=262, readlinkat=267, faccessat=269, set_robust_list=273, get_robust_list=274,
    preadv=295, getrandom=318, membarrier=324, pkey_mprotect=329, statx=332, rseq=334,
    faccessat2=439,
)
_ALLOW_AARCH64 = dict(
    read=63, write=64, close=57, fstat=80, newfstatat=79, lseek=62, mmap=222, mprotect=226,
    getitimer=102, setitimer=103,
    munmap=215, brk=214, rt_sigaction=134, rt_sigprocmask=135, rt_sigreturn=139,
    pread64=67, readv=65, sched_yield=124, mremap=216, madvise=233, dup=23, nanosleep=101,
    getpid=172, exit=93, kill=129, uname=160, fcntl=25, getcwd=17, gettimeofday=169,
    getrlimit=163, getrusage=165, sysinfo=179, times=153, getuid=174, getgid=176,
    geteuid=175, getegid=177, getppid=173, getgroups=158, sigaltstack=132, gettid=178,
    tkill=130, futex=98, sched_getaffinity=123, getdents64=61, set_tid_address=96,
    restart_syscall=128, clock_gettime=113, clock_getres=114, clock_nanosleep=115,
    exit_group=94, tgkill=131, openat=56, readlinkat=78, faccessat=48, set_robust_list=99,
    get_robust_list=100, preadv=69, getrandom=278, membarrier=283, pkey_mprotect=288,
    statx=291, rseq=293, faccessat2=439,
)
ALLOW_ARCHES = {"x86_64": (0xC000003E, _ALLOW_X86_64), "aarch64": (0xC00000B7, _ALLOW_AARCH64)}


def allow_program(write_fds: tuple[int, ...] = (1, 2), pid: int | None = None,
                  machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The allow-list as (code, jt, jf, k) instructions: stdout, stderr and `write_fds`
    may be written, `pid` (default: this process) signalled."""
    machine, nrs, code = _prelude(machine, ALLOW_ARCHES)
    pid = os.getpid() if pid is None else pid
    code += [(_JEQ, "allow", 0, nrs[n]) for n in ALLOWED if n in nrs]
    # As in the deny-list: glibc falls back from these only on ENOSYS (EPERM would end
    # posix_spawn before the deny-list's clone check could kill it).
    code += [(_JEQ, "enosys", 0, ARCHES[machine][1][n]) for n in ENOSYS_CALLS]
    code += [(_JEQ, f"open{i}", 0, nrs[n]) for n, i in OPENS.items() if n in nrs]
    code += [(_JEQ, "write", 0, nrs["write"]), (_JEQ, "fcntl", 0, nrs["fcntl"]),
             (_JEQ, "futex", 0, nrs["futex"]), (_JEQ, "mmap", 0, nrs["mmap"]),
             (_JEQ, "madvise", 0, nrs["madvise"])]
    code += [(_JEQ, "self", 0, nrs[n]) for n in ALLOW_SELF]
    code += [
        (_RET, 0, 0, RET_ERRNO | EPERM),
        ("open1",), (_LD_W_ABS, 0, 0, _arg(1)), (_JSET, "deny", "allow", WRITE_FLAGS),
        ("open2",), (_LD_W_ABS, 0, 0, _arg(2)), (_JSET, "deny", "allow", WRITE_FLAGS),
        ("write",), (_LD_W_ABS, 0, 0, _arg(0)),
        *[(_JEQ, "allow", 0, fd) for fd in dict.fromkeys((1, 2, *write_fds))],
        (_RET, 0, 0, RET_ERRNO | EPERM),
        ("fcntl",), (_LD_W_ABS, 0, 0, _arg(1)),
        *[(_JEQ, "allow", 0, cmd) for cmd in (F_DUPFD, F_GETFD, F_SETFD, F_GETFL,
                                               F_DUPFD_CLOEXEC)],
        (_RET, 0, 0, RET_ERRNO | EPERM),
        ("self",), (_LD_W_ABS, 0, 0, _arg(0)), (_JEQ, "allow", "deny", pid),
        ("futex",), (_LD_W_ABS, 0, 0, _arg(1)), *[(_JEQ, "allow", 0, op) for op in FUTEX_OPS],
        (_RET, 0, 0, RET_ERRNO | EPERM),
        ("mmap",), (_LD_W_ABS, 0, 0, _arg(3)), (_JSET, "deny", "allow", MAP_SHARED | MAP_LOCKED),
        ("madvise",), (_LD_W_ABS, 0, 0, _arg(2)), *[(_JEQ, "allow", 0, a) for a in MADVICE],
        (_RET, 0, 0, RET_ERRNO | EPERM),
        ("allow",), (_RET, 0, 0, RET_ALLOW),
        ("deny",), (_RET, 0, 0, RET_ERRNO | EPERM),
        ("enosys",), (_RET, 0, 0, RET_ERRNO | ENOSYS),
        ("kill",), (_RET, 0, 0, RET_KILL_PROCESS),
    ]
    return resolve(code)
