"""The package as a whole: exceptions, the type stub, docstrings."""

import ast
import importlib.util
import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import selinux_mcs
from selinux_mcs import (
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

from conftest import required

PACKAGE = Path(selinux_mcs.__file__).parent


def test_exception_hierarchy():
    for cls in (ParseError, InvalidArgumentError, InvalidContextError, RegistryError, ProtectedPathError,
                LabelError, PolicyError, ExhaustedError):
        assert issubclass(cls, SelinuxMcsError)
    assert issubclass(ExhaustedError, RegistryError)
    for cls in (ParseError, InvalidArgumentError, InvalidContextError):
        assert issubclass(cls, ValueError)
    assert issubclass(LabelError, OSError)
    assert issubclass(SelinuxMcsError, Exception) and not issubclass(SelinuxMcsError, ValueError)


@pytest.mark.parametrize(
    "exc",
    [
        ParseError("bad", "u:r", 3, "missing-field"),
        InvalidArgumentError("no", "disjoint"),
        InvalidContextError("x: unknown type", "x", "type"),
        RegistryError("taken", "taken"),
        ExhaustedError("none left"),
        ProtectedPathError("refusing", "/usr//", "/usr", False),
        LabelError("lgetxattr /x: no such file", "/x", 2, "lgetxattr", "not-found"),
        PolicyError("bad", "/p", 3, None),
    ],
)
def test_exceptions_keep_their_attributes_through_pickle(exc):
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)
    assert {k: v for k, v in vars(back).items()} == {k: v for k, v in vars(exc).items()}


def test_raised_exceptions_pickle():
    with pytest.raises(ParseError) as info:
        selinux_mcs.Context("u:r:t:s0:c5.c1")
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.text, back.offset, back.kind) == ("u:r:t:s0:c5.c1", 9, "category-range-order")


def test_public_names_have_docstrings():
    for name in selinux_mcs.__all__:
        obj = getattr(selinux_mcs, name)
        if isinstance(obj, str):
            continue
        assert obj.__doc__ and obj.__doc__.strip(), name
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if not attr.startswith("_"):  # methods and getters (getset descriptors)
                    assert getattr(member, "__doc__", None), f"{name}.{attr} has no docstring"


def test_typed_package_files():
    assert (PACKAGE / "py.typed").exists()
    assert (PACKAGE / "__init__.pyi").exists()
    stub = ast.parse((PACKAGE / "__init__.pyi").read_text())
    stub_all = next(
        ast.literal_eval(node.value)
        for node in stub.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
    )
    assert sorted(stub_all) == sorted(selinux_mcs.__all__)


def test_stub_matches_the_module():
    """mypy's stubtest compares every signature of the stub with the module.
    CI installs mypy and sets SELINUX_MCS_REQUIRE_STUBTEST=1."""
    if importlib.util.find_spec("mypy") is None:
        if required("SELINUX_MCS_REQUIRE_STUBTEST"):
            pytest.fail("mypy is not installed, and SELINUX_MCS_REQUIRE_STUBTEST=1")
        pytest.skip("mypy is not installed")
    env = dict(os.environ, MYPY_CACHE_DIR=os.devnull)
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "selinux_mcs"], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_extension_links_no_libpython():
    """Built with pyo3's extension-module: the interpreter that loads the
    module provides Python's symbols, so the wheel needs no libpython (and
    serves any CPython 3.8+ through the stable ABI)."""
    native = Path(selinux_mcs._native.__file__)
    assert native.name.endswith(".abi3.so"), native.name
    assert b"libpython" not in native.read_bytes()
