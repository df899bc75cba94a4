"""The docs stay true to the code: every source module has a line in docs/ARCHITECTURE.md's tree
(the way sqlite-utils' test_docs.py keeps its documentation honest)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "vidgen"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
TREE_HEADING = "## Where everything lives"
_NAME = r"\w+(?:\.py|/)?"
# "├── name  role", "│   └── a.py, b.py  role", "├── a, b, c .py  role" (a role may wrap onto
# lines without a connector, which are skipped)
_ENTRY = re.compile(
    rf"^(?P<indent>(?:│   |    )*)[├└]── (?P<names>{_NAME}(?:, {_NAME})*(?: \.py)?)(?:\s|$)"
)


def documented(text: str) -> tuple[set[str], set[str]]:
    """(modules, folders) the tree names, as paths relative to src/vidgen."""
    block = text.split(TREE_HEADING, 1)[1].split("```")[1]
    modules: set[str] = set()
    folders: set[str] = set()
    parents: list[str] = []
    for line in block.splitlines():
        entry = _ENTRY.match(line)
        if entry is None:  # the root line, or a role continued on the next line
            continue
        depth = len(entry["indent"]) // 4
        del parents[depth:]
        names = entry["names"]
        if names.endswith(" .py"):
            parts = [f"{name}.py" for name in names[: -len(" .py")].split(", ")]
        else:
            parts = names.split(", ")
        for name in parts:
            path = "/".join([*parents, name.rstrip("/")])
            (folders if name.endswith("/") else modules).add(path)
        if len(parts) == 1 and parts[0].endswith("/"):
            parents.append(parts[0].rstrip("/"))
    return modules, folders


def source_modules() -> set[str]:
    return {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if path != SOURCE / "__init__.py"  # the tree's root line, src/vidgen/
    }


def test_every_source_module_has_a_line_in_the_architecture_tree() -> None:
    modules, folders = documented(ARCHITECTURE.read_text())
    missing = sorted(
        module
        for module in source_modules() - modules
        if not (module.endswith("/__init__.py") and module.rsplit("/", 1)[0] in folders)
    )
    assert not missing, (
        f"docs/ARCHITECTURE.md's tree ('{TREE_HEADING}') has no line for "
        f"{', '.join('src/vidgen/' + m for m in missing)}: add one per module, under its "
        "package, with its role in a few words"
    )


def test_the_architecture_tree_names_nothing_that_is_gone() -> None:
    modules, folders = documented(ARCHITECTURE.read_text())
    gone = sorted(modules - source_modules()) + sorted(
        f"{folder}/" for folder in folders if not (SOURCE / folder).is_dir()
    )
    assert not gone, (
        f"docs/ARCHITECTURE.md's tree ('{TREE_HEADING}') lists "
        f"{', '.join('src/vidgen/' + m for m in gone)}, which no longer exist: "
        "remove or rename those lines"
    )


def test_the_tree_reader_sees_packages_grouped_lines_and_missing_modules() -> None:
    tree = f"""{TREE_HEADING}

```
src/vidgen/
├── cli/                    the CLI
│   ├── main.py             the app
│   └── jobs, status .py    one command each
├── media/                  media
│   ├── overlays.py, fonts.py   text
│   ├── long_name.py one space before its role
│   ├── static/, templates/ files
│   └── sub/                a nested package
│       └── deep.py         with a role that goes on
│                           over two lines
└── errors.py               errors
```
"""
    assert documented(tree) == (
        {"cli/main.py", "cli/jobs.py", "cli/status.py", "media/overlays.py", "media/fonts.py",
         "media/sub/deep.py", "media/long_name.py", "errors.py"},
        {"cli", "media", "media/sub", "media/static", "media/templates"},
    )  # fmt: skip
