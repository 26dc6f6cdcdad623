"""The exceptions of selinux_mcs.

Every error the library raises is a :class:`SelinuxMcsError`. The subclasses
that mean "bad argument" also derive from :class:`ValueError`, and
:class:`LabelError` (a system call on a file failed) from :class:`OSError`,
so code written against the standard exceptions keeps working.

They are plain Python classes (the native module raises them by name) so
that they can derive from two built-in exceptions at once, which classes
made in Rust cannot.
"""

from typing import Optional

__all__ = [
    "SelinuxMcsError",
    "ParseError",
    "InvalidArgumentError",
    "InvalidContextError",
    "ExhaustedError",
    "RegistryError",
    "ProtectedPathError",
    "LabelError",
    "PolicyError",
]


class SelinuxMcsError(Exception):
    """Base class of every error selinux_mcs raises."""


class ParseError(SelinuxMcsError, ValueError):
    """A context, level, range or category list that does not parse.

    ``offset`` is the byte offset in ``text`` (the text as given) where the
    parser stopped; ``kind`` a stable kebab-case name of the cause
    (``category-range-order``, ``invalid-name``, ... as in the Rust
    ``ParseErrorKind::as_str``).
    """

    def __init__(self, message: str, text: str = "", offset: int = 0, kind: str = "") -> None:
        super().__init__(message)
        self.text = text
        self.offset = offset
        self.kind = kind

    def __reduce__(self):  # keep the attributes through pickle
        return (type(self), (self.args[0], self.text, self.offset, self.kind))


class InvalidArgumentError(SelinuxMcsError, ValueError):
    """An argument that parses but cannot be used: an unknown permission,
    class, boolean or file kind, an owner name with control characters, a
    level that is not a pair where a pair is needed, two ranges with no
    common part.

    ``kind`` names the cause where callers may branch on it: for level
    math ``high-does-not-dominate-low`` or ``disjoint``; else ``None``.
    """

    def __init__(self, message: str, kind: Optional[str] = None) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):
        return (type(self), (self.args[0], self.kind))


class InvalidContextError(SelinuxMcsError, ValueError):
    """A context that parses but that the policy does not accept.

    ``rule`` names the kernel rule it breaks (``user``, ``role``, ``type``,
    ``attribute``, ``level``, ``sensitivity``, ``category``, ``role_types``,
    ``user_roles``, ``user_range``); ``context`` is the context's text.
    """

    def __init__(self, message: str, context: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.context = context
        self.rule = rule

    def __reduce__(self):
        return (type(self), (self.args[0], self.context, self.rule))


class RegistryError(SelinuxMcsError):
    """The registry refused or failed: the pair or the owner is held by
    someone else (``kind == "taken"``), the file is not a registry, is
    read-only, corrupt or busy (``"registry"``), a system call failed
    (``"io"``, with ``errno``), or the handle is closed (``"closed"``)."""

    def __init__(self, message: str, kind: str = "registry", errno: Optional[int] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.errno = errno

    def __reduce__(self):
        return (type(self), (self.args[0], self.kind, self.errno))


class ExhaustedError(RegistryError):
    """No free MCS pair is left in the pool, or fewer than asked for."""

    def __init__(self, message: str, kind: str = "exhausted", errno: Optional[int] = None) -> None:
        super().__init__(message, kind, errno)


class ProtectedPathError(SelinuxMcsError):
    """A relabel refused its root: a protected path (``/``, ``/usr``, a home,
    ...) by identity, however it is spelled, or a pseudo file system.

    ``path`` is the path as given, ``matched`` the protected path it is, and
    ``needs_force`` whether ``force=True`` would allow it.
    """

    def __init__(self, message: str, path: str = "", matched: str = "", needs_force: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.matched = matched
        self.needs_force = needs_force

    def __reduce__(self):
        return (type(self), (self.args[0], self.path, self.matched, self.needs_force))


class LabelError(SelinuxMcsError, OSError):
    """A label could not be read or written.

    ``path`` names the file, ``errno`` the error number when a system call
    failed (``errno.ENOTSUP``: the file system has no labels;
    ``errno.ENODATA``: the file has none; ``None`` otherwise), ``call`` the
    system call (``lgetxattr``, ``setxattrat``, ...) and ``kind`` a stable
    name (``not-supported``, ``no-label``, ``read-only``,
    ``permission-denied``, ``invalid``, ``too-long``, ``not-found``,
    ``protected``, ``rule``, ``other``).
    """

    def __init__(
        self,
        message: str,
        path: str = "",
        errno: Optional[int] = None,
        call: Optional[str] = None,
        kind: str = "other",
    ) -> None:
        super().__init__(message)
        # OSError's own slots, so that `except OSError as e: e.errno` works.
        self.errno = errno
        self.filename = path
        self.strerror = message
        self.path = path
        self.call = call
        self.kind = kind

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):
        return (type(self), (self.args[0], self.path, self.errno, self.call, self.kind))


class PolicyError(SelinuxMcsError):
    """A policy file (binary policy, file_contexts, setrans.conf) could not
    be read or parsed. ``path`` names the file when known, ``line`` the
    1-based line of a text file, ``offset`` the byte offset of a malformed
    binary policy."""

    def __init__(
        self,
        message: str,
        path: Optional[str] = None,
        line: Optional[int] = None,
        offset: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.offset = offset

    def __reduce__(self):
        return (type(self), (self.args[0], self.path, self.line, self.offset))
