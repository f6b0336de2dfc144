"""The layers import downwards only: the API, the command line, the workers and the domain
never import the web pages (``twoorl.web``); what they share lives in ``twoorl.runtime``."""

from __future__ import annotations

import ast
from pathlib import Path

import twoorl

SOURCE = Path(twoorl.__file__).parent
WEB_FREE = ["api", "runtime", "jobs", "feeds", "timelines", "posts", "accounts", "cli.py"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_nothing_below_the_pages_imports_them() -> None:
    offenders = []
    for part in WEB_FREE:
        target = SOURCE / part
        files = [target] if target.is_file() else sorted(target.rglob("*.py"))
        assert files, part
        for path in files:
            web = [
                m
                for m in imported_modules(path)
                if m == "twoorl.web" or m.startswith("twoorl.web.")
            ]
            if web:
                offenders.append(f"{path.relative_to(SOURCE)}: {', '.join(sorted(web))}")
    assert offenders == []


def test_the_check_sees_an_import_of_the_pages(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from twoorl.web import actions\nimport twoorl.web.auth\n")
    assert {"twoorl.web", "twoorl.web.auth"} <= imported_modules(sample)
