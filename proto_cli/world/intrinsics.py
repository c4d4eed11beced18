"""Which genesis methods compiled code may run inline, and whether the image still has them.

The compiler (codegen.py) runs `a + b` on two integers, `x ifTrue: [...]`, `1 to: n do:
[...]` and the like without a send, as Smalltalk compilers do. Unlike a Smalltalk
compiler it stays exact: a site takes its inline path only while the method that send
would find is still genesis's own, by the SHA-256 of its source. An image whose
`traits number +` (or `traits true ifTrue:`, or `traits block value:`) was redefined,
removed or shadowed gets the real send, every time.

Each group below is one flag in the compiled code's globals. A flag is None (not yet
known), True or False; anything that can change a lookup (World.flush_caches) resets
every flag to None, and the next site that needs one checks the image again.
"""

from __future__ import annotations

from .objects import METHOD

#: The selectors that run a block, and the arguments each takes.
BLOCK_VALUE = {"value": 0, "value:": 1, "value:value:": 2, "value:value:value:": 3}
#: Integer arithmetic run inline: selector -> (Python operator, the flag guarding it).
ARITH = {"+": ("+", "ADD"), "-": ("-", "SUB"), "*": ("*", "MUL"), "<": ("<", "LT"),
         ">": (">", "GT"), "<=": ("<=", "LE"), ">=": (">=", "GE")}
CONDITIONALS = ("ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:", "and:", "or:")

#: SHA-256 of each genesis method source an inline path stands for
#: (tests/test_interpreter_inline.py recomputes this table from genesis).
GENESIS_SHA256 = {
    # ARITH: integer arithmetic and comparison, a flag each
    ("number", "+"): "04f662dc0c97975508f2dc4cb0b998bc36b1a4eab84847f400c01ce24b1d737b",
    ("number", "-"): "ab671b4b7a62201dd5897500fd64722a9fdba20afe41c10881667be0f70edffe",
    ("number", "*"): "60bdb39d687937b9a154b0df8b30b3a487e77036ade7ae892bdd03627f24fda5",
    ("number", "<"): "ea3c09903ef9062081984e1fe7b87771921dae9d97da34f99789abe97e479eda",
    ("number", ">"): "72017a0b3a7536c3a108f79cc119eadc0abf908704d131d53ede2d28c4320f10",
    ("number", "<="): "4b28d4d0df4dbc8912ccc8ba53db8bd147c92f034706fabd82783debb3aac231",
    ("number", ">="): "432370523ecaeeaa6f62f739d148fb3967c9e30f1eec430644cd2d11224b05c1",
    # VAL: running a block
    ("block", "value"): "917e5c73a09834334e6448efdf13c901b33a9c5b51b26858462e4f7e82784c2a",
    ("block", "value:"): "c32a26e1dfd96481e12ad54887ea50d0ba5bcc371974478ae8c7c0c8f5d2592d",
    ("block", "value:value:"): "207d705e4e1f9d60a2719e0374802c48b57f450deaff169beda383edc7769c67",
    ("block", "value:value:value:"):
        "d8ee80520c78d2c7eaa92cfa6aa4a04753f994f130419916f4a9603d9d600130",
    # IFS: conditionals on true and false
    ("true", "ifTrue:"): "e65b4791d261880c5f3bb74d4dd653c9926bc95f75f6ec86942571371df2ef07",
    ("true", "ifFalse:"): "db236b4b330559baa9b9354b7c99e5537eef02c47d155c066ec6ea2f1ba2810e",
    ("true", "ifTrue:ifFalse:"):
        "d0f35fdf9d9fea4d7910f027f567e6f2b3fe0a2662d4cc87a177e9975a534bb3",
    ("true", "ifFalse:ifTrue:"):
        "1ab9f9d6708c7b91f7db1adf16babb03f8687b886ac151ba2304eb857094bc8b",
    ("true", "and:"): "83c9389acad5436525da67945df75333678cabaf8b1648c4a5eb426a05f9997e",
    ("true", "or:"): "502f94d16a1a7d44a2c637f7347568bda35f5fb9e53829ba6013f9376607574a",
    ("false", "ifTrue:"): "591f53828fd36b794d3a98e494edffb8c17ea9f88b4a85097ecdc95749e442a8",
    ("false", "ifFalse:"): "234d301c3b82b494cb593dc8e2e4169c0e98c783d9eead935b807b2c45a72c08",
    ("false", "ifTrue:ifFalse:"):
        "f0f8f1bb217186ab0418f2919827db2710dc6c4f81f1d8b78f842ac8cc30e8bf",
    ("false", "ifFalse:ifTrue:"):
        "d29762e9603e10ee2644814f444dabdd2a83c9b285d5811a19d1118fdd0ad909",
    ("false", "and:"): "6ccdf53a6aba3a490b819a0f6ac193f9c30a25efb4af03c32124373bb5d63708",
    ("false", "or:"): "07b57a6877450930a0be005c5b8de93d6e2443351a8810f04d15937b10ee6098",
    # LOOP: counting loops on integers
    ("number", "to:do:"): "775a63687af2ed443c7310625d52e62897d7eb01b5792d5efa1d57ba172dda14",
    ("number", "timesRepeat:"):
        "202c25f7755088244e232946b46441eb1e588c75293da55c97018f5dcd50a90a",
    # WHL: loops on blocks
    ("block", "whileTrue:"): "025d1a4c7584f1bc31495bf31d6dae8a78b2fd39742c7964b1d42258d1f53824",
    ("block", "whileFalse:"): "6a9ae38ed1bf1f855ec383eca663c462ccf4288ad787be91ef8683bdf7f4e21d",
    # PRINT_...: a plain value's printString, found on traits object
    ("object", "printString"):
        "7d6e9021452c79c70173c38b0cd749b068c7114f2991f0ad37abda8395ed6868",
}


def _own(traits: str, *selectors: str) -> tuple:
    return tuple((traits, traits, selector) for selector in selectors)


#: flag -> (the sends it stands for, as (traits a lookup starts at, traits that must hold
#: genesis's method, selector), and the flags it also needs). An inlined loop or
#: conditional runs its blocks without `value`, so it needs VAL too.
GROUPS: dict[str, tuple[tuple[tuple[str, str, str], ...], tuple[str, ...]]] = {
    **{flag: (_own("number", selector), ()) for selector, (_op, flag) in ARITH.items()},
    "VAL": (_own("block", *BLOCK_VALUE), ()),
    "IFS": (_own("true", *CONDITIONALS) + _own("false", *CONDITIONALS), ("VAL",)),
    "LOOP": (_own("number", "to:do:", "timesRepeat:"), ("VAL",)),
    "WHL": (_own("block", "whileTrue:", "whileFalse:"), ("VAL",)),
    **{f"PRINT_{traits}": (((traits, "object", "printString"),), ())
       for traits in ("number", "string", "nil", "true", "false")},
}


def _sha256(text: str) -> str:
    try:  # the builtin module: hashlib costs ~4 ms of start-up (OpenSSL)
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - Python 3.12 renamed it
        from hashlib import sha256
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Guards:
    """The flags of one world's compiled code, kept in that code's globals."""

    def __init__(self, world, env: dict) -> None:
        self.world = world
        self.env = env
        self.stale()

    def stale(self) -> None:
        """Something a lookup depends on changed: every flag must be checked again."""
        for name in GROUPS:
            self.env[name] = None

    def check(self, name: str) -> bool:
        """The flag, computing it when unknown (compiled code calls this on a miss)."""
        value = self.env[name]
        if value is None:
            methods, needs = GROUPS[name]
            value = all(self._genesis(*send) for send in methods) and \
                all(self.check(need) for need in needs)
            self.env[name] = value
        return value

    def _genesis(self, start: str, holder: str, selector: str) -> bool:
        """Whether a send of `selector` to a value of the `start` traits finds genesis's
        method: on the `holder` traits, unflagged, with genesis's source. A slot that
        does not read (a damaged image) means no: the real send then says what is wrong."""
        world = self.world
        try:
            found = world.find(world.root(start), selector, set())
            expected = world.root(holder)
        except RecursionError:
            raise  # the program is too deep; not a damaged image
        except Exception:
            return False
        if found is None:
            return False
        obj, slot, assigning = found
        return (obj is expected and not assigning and slot.kind == METHOD
                and slot.meta is None and type(slot.value) is str
                and _sha256(slot.value) == GENESIS_SHA256[(holder, selector)])
