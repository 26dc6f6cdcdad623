"""SELinux contexts, MLS/MCS levels, MCS pairs and volume relabeling.

Python bindings of the Rust library ``selinux-mcs``: a strict context
parser that prints the kernel's canonical form, dominance and glb/lub,
explanations and MCS access decisions, a registry of MCS pairs unique
across processes, ``security.selinux`` labels and parallel relabeling that
never follows a symlink or leaves the tree, file_contexts lookups and the
kernel's binary policy (validity, access decisions), all without
libselinux.

>>> from selinux_mcs import Context, Level
>>> ctx = Context("system_u:system_r:svirt_lxc_net_t:s0:c641,c186")
>>> str(ctx)
'system_u:system_r:svirt_lxc_net_t:s0:c186,c641'
>>> ctx.level >= Level("s0:c186")
True
"""

from ._errors import (
    ExhaustedError,
    InvalidArgumentError,
    InvalidContextError,
    LabelError,
    ParseError,
    PolicyError,
    ProtectedPathError,
    RegistryError,
    SelinuxMcsError,
)
from ._native import (
    DEFAULT_FILE_CONTEXT,
    XATTR_NAME,
    Access,
    AccessVector,
    Context,
    Entry,
    Failure,
    FileContexts,
    Level,
    Policy,
    Range,
    Registry,
    Report,
    calculate_glb_lub,
    check,
    explain,
    get_label,
    relabel,
    set_label,
)

__all__ = [
    "DEFAULT_FILE_CONTEXT",
    "XATTR_NAME",
    "Access",
    "AccessVector",
    "Context",
    "Entry",
    "ExhaustedError",
    "Failure",
    "FileContexts",
    "InvalidArgumentError",
    "InvalidContextError",
    "LabelError",
    "Level",
    "ParseError",
    "Policy",
    "PolicyError",
    "ProtectedPathError",
    "Range",
    "Registry",
    "RegistryError",
    "Report",
    "SelinuxMcsError",
    "calculate_glb_lub",
    "check",
    "explain",
    "get_label",
    "relabel",
    "set_label",
]
