"""`furrow schemas push|lint DIR` and `furrow keys create PREFIX`: the registry from a shell.

A schema directory is laid out `vendor/name/format/M-R-A`. `push` publishes it in SchemaVer
order; a schema the registry already holds unchanged counts as skipped, so pushing the same tree
twice is harmless.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx
from tqdm import tqdm

from iglu_registry import lint
from iglu_registry.config import RegistryConfig
from iglu_registry.tree import TreeProblem, TreeSchema, read_tree
from libs.config import load_config, read_secret
from libs.formats.iglu import order_problem

_TIMEOUT_S = 30.0
APIKEY_VARIABLE = "FURROW_APIKEY"


@dataclass(frozen=True)
class Target:
    """Which registry to talk to, and with which key."""

    url: str
    apikey: str | None

    def client(self) -> httpx.Client:
        headers = {"apikey": self.apikey} if self.apikey else {}
        return httpx.Client(base_url=self.url.rstrip("/"), headers=headers, timeout=_TIMEOUT_S)


def run(arguments: argparse.Namespace) -> int:
    """`furrow schemas push|lint` and `furrow keys create`, as parsed by `services.cli`."""
    if arguments.command == "schemas" and arguments.action == "lint":
        return lint_tree(arguments.directory)
    config = load_config(RegistryConfig, "registry", path=arguments.config)
    target = Target(
        arguments.registry or f"http://{config.host}:{config.port}",
        api_key(arguments.apikey_file, os.environ.get(APIKEY_VARIABLE), config.super_key),
    )
    if arguments.command == "keys":
        return create_keys(arguments.prefix, target)
    return push_tree(arguments.directory, target, is_public=arguments.public)


def api_key(file: Path | None, from_environment: str | None, super_key: str | None) -> str | None:
    """The key to send: from `--apikey-file`, else `$FURROW_APIKEY`, else the super key.
    Raises ConfigError naming the flag when the file cannot be read or is empty."""
    if file is not None:
        return read_secret(None, file, "--apikey-file")
    return from_environment or super_key


def lint_tree(root: Path, out: TextIO | None = None) -> int:
    """Print every problem of the tree at `root`, then its warnings; 0 when there is no
    problem (warnings do not count, as with igluctl), else 1."""
    out = out or sys.stdout
    schemas, problems = read_tree(root)
    warnings = _tree_problems(schemas, problems)
    for problem in problems:
        print(f"{problem.path}: {problem.message}", file=out)
    for warning in warnings:
        print(f"{warning.path}: {warning.message} (warning)", file=out)
    print(f"{len(schemas)} schemas, {len(problems)} problems, {len(warnings)} warnings", file=out)
    return 1 if problems else 0


def push_tree(
    root: Path, target: Target, *, is_public: bool, out: TextIO | None = None, progress: bool = True
) -> int:
    """Publish every schema under `root` in SchemaVer order; 0 when none failed, else 1."""
    out = out or sys.stdout
    schemas, problems = read_tree(root)
    outcomes: Counter[str] = Counter()
    failures = [f"{problem.path}: {problem.message}" for problem in problems]
    outcomes["failed"] += len(problems)
    with target.client() as client:
        for schema in tqdm(
            schemas, desc="pushing", unit="schema", disable=not progress, file=sys.stderr
        ):
            outcome, message = _push(client, schema, is_public)
            outcomes[outcome] += 1
            if message:
                failures.append(f"{schema.path}: {message}")
    for failure in failures:
        print(failure, file=out)
    print(
        f"created {outcomes['created']}, updated {outcomes['updated']}, "
        f"skipped {outcomes['skipped']}, failed {outcomes['failed']}",
        file=out,
    )
    return 1 if outcomes["failed"] else 0


def create_keys(prefix: str, target: Target, out: TextIO | None = None) -> int:
    """Ask the registry for a read and a write key for `prefix` and print them."""
    out = out or sys.stdout
    with target.client() as client:
        try:
            answer = client.post("/api/auth/keygen", json={"vendorPrefix": prefix})
        except httpx.HTTPError as error:
            print(f"cannot reach the registry at {target.url}: {error}", file=out)
            return 1
    if answer.status_code != 201:
        print(f"refused ({answer.status_code}): {_message(answer)}", file=out)
        return 1
    keys = answer.json()
    print(f"vendor prefix: {prefix}\nread:  {keys['read']}\nwrite: {keys['write']}", file=out)
    return 0


def _push(client: httpx.Client, schema: TreeSchema, is_public: bool) -> tuple[str, str]:
    """The outcome (created, updated, skipped, failed) and, for a failure, why."""
    parameters = {"isPublic": "true" if is_public else "false"}
    try:
        answer = client.put(
            f"/api/schemas/{schema.key.path}", json=schema.document, params=parameters
        )
        if answer.status_code == 409 and _unchanged(client, schema):
            return "skipped", ""
    except httpx.HTTPError as error:
        return "failed", f"cannot reach the registry: {error}"
    if answer.status_code in (200, 201):
        return ("created" if answer.status_code == 201 else "updated"), ""
    return "failed", f"{answer.status_code} {_message(answer)}"


def _unchanged(client: httpx.Client, schema: TreeSchema) -> bool:
    stored = client.get(f"/api/schemas/{schema.key.path}")
    return stored.status_code == 200 and _without_supersession(stored.json()) == schema.document


def _without_supersession(document: object) -> object:
    # `$supersededBy` is added on read and is never part of what was pushed.
    if isinstance(document, dict):
        return {name: value for name, value in document.items() if name != "$supersededBy"}
    return document


def _tree_problems(schemas: list[TreeSchema], problems: list[TreeProblem]) -> list[TreeProblem]:
    """Add the lint errors of each schema and the versions missing from the tree's SchemaVer
    order to `problems`; the lint warnings."""
    warnings: list[TreeProblem] = []
    for schema in schemas:
        for issue in lint.lint(schema.document, schema.key):
            found = TreeProblem(schema.path, f"{issue.pointer or '/'}: {issue.message}")
            (problems if issue.level is lint.Level.ERROR else warnings).append(found)
    versions: dict[tuple[str, str, str], list[TreeSchema]] = {}
    for schema in schemas:
        versions.setdefault(schema.key.family, []).append(schema)
    for family in versions.values():
        present = {schema.key.version for schema in family}
        for schema in family:
            if problem := order_problem(present - {schema.key.version}, schema.key.version):
                problems.append(TreeProblem(schema.path, f"out of order: {problem}"))
    return warnings


def _message(answer: httpx.Response) -> str:
    try:
        document = answer.json()
    except ValueError:
        return answer.text[:200]
    if not isinstance(document, dict):
        return str(document)[:200]
    # The warnings beside the errors did not refuse the schema.
    report = "; ".join(
        f"{problem.get('pointer')}: {problem.get('message')}"
        for problem in document.get("report") or []
        if problem.get("level") != "warning"
    )
    return f"{document.get('message')}" + (f" ({report})" if report else "")
