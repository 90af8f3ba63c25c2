"""The package's build: setuptools (metadata in pyproject.toml) with the per-event modules
compiled to C by mypyc, into extension modules beside their sources' packages.

mypyc type-checks the modules against the installed dependencies, so the package is built after
them and without build isolation: `make install` and docker/Dockerfile take both steps. A plain
`pip install` (build isolation, no mypy) and FURROW_PURE=1 build the package with no compiled
module: the same code, interpreted, which CI's pure-Python unit run keeps working.
"""

from __future__ import annotations

import os
import tomllib

from setuptools import Extension, setup


def native_extensions() -> list[Extension]:
    if os.environ.get("FURROW_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print(
            "furrow: mypyc is not installed, so the package is built without its compiled "
            "modules; for them, install the dependencies and mypy, then build with "
            "`pip install --no-build-isolation` (see docker/Dockerfile)"
        )
        return []
    with open("pyproject.toml", "rb") as pyproject:
        modules = tomllib.load(pyproject)["tool"]["furrow"]["native-modules"]
    # Each module in a library of its own beside its source, inside its package: a library shared
    # by all would sit at the top of the tree, outside any package (compiled code derives its
    # modules' __file__ from the shared library's place, so it cannot go inside one).
    return mypycify(modules, separate=True, opt_level="3")


setup(ext_modules=native_extensions())
