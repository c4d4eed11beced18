"""Names shared by the harnesses that run in the sandbox and the host that reads them.

Kept free of imports: the file is shipped into the sandbox as it is.
"""

STAGE_MARK = "PROTO-STAGE"
REPORT_MARK = "PROTO-REPORT"
SURVEY_MARK = "PROTO-SURVEY"

#: verify_run's stages, in order: cffi parses the declaration, the library opens, the
#: symbol is found, the method source compiles, the seccomp guard goes on, the
#: proposal's test runs, the message's own arguments are called.
STAGES = ("cdef", "dlopen", "symbol", "compile", "guard", "test", "call")

#: The failure kind a failed stage is, where the stage alone decides it.
KIND_OF_STAGE = {"cdef": "cdef", "dlopen": "missing-symbol", "symbol": "missing-symbol",
                 "compile": "compile", "guard": "sandbox"}
