"""The installed package is the compiled one: every module pyproject.toml lists for mypyc is
imported as an extension module, by the tests (unless FURROW_PURE=1 asks for the sources) and by a
process started elsewhere, as the `furrow` command is."""

import importlib
import importlib.machinery
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NATIVE_MODULES = [
    path.removesuffix(".py").replace("/", ".")
    for path in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["furrow"][
        "native-modules"
    ]
]
EXTENSION = importlib.machinery.EXTENSION_SUFFIXES[0]


def test_the_tests_import_the_compiled_modules_unless_asked_for_the_sources() -> None:
    suffix = ".py" if os.environ.get("FURROW_PURE") == "1" else EXTENSION
    files = [str(importlib.import_module(name).__file__) for name in NATIVE_MODULES]
    assert [file for file in files if not file.endswith(suffix)] == []


def test_the_installed_package_runs_the_compiled_modules() -> None:
    script = (
        "import importlib, sys; print(*(importlib.import_module(n).__file__ for n in sys.argv[1:]))"
    )
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-c", script, *NATIVE_MODULES],
        cwd="/",
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    files = run.stdout.split()
    assert len(files) == len(NATIVE_MODULES)
    assert [file for file in files if not file.endswith(EXTENSION)] == []
    assert all(Path(file).is_relative_to(ROOT) for file in files), "the clone's own build"


def test_no_module_off_the_list_is_compiled() -> None:
    # A module taken off the list keeps an extension from an earlier build unless the build
    # removes it, and Python would import that extension before the edited source.
    sources = [
        extension.with_name(extension.name.split(".")[0] + ".py")
        for package in (ROOT / "libs", ROOT / "services")
        for extension in package.rglob(f"*{EXTENSION}")
    ]
    compiled = {
        str(source.relative_to(ROOT).with_suffix("")).replace("/", ".")
        for source in sources
        if source.exists()
    }
    assert compiled - set(NATIVE_MODULES) == set()
