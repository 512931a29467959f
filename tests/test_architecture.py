"""The core never imports a platform: adapters depend on the core, never the other way round."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_PACKAGES = {"discord", "telegram"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


CORE_FILES = sorted(p for pkg in ("bot", "moderation") for p in (ROOT / pkg).rglob("*.py"))


def test_the_core_has_files_to_check():
    assert len(CORE_FILES) > 20


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_no_platform(path):
    leaked = _imports(path) & PLATFORM_PACKAGES
    assert not leaked, f"{path.relative_to(ROOT)} imports {leaked}"


def test_the_scan_sees_a_platform_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import discord.ext\nfrom telegram import Bot\n")
    assert _imports(sample) >= PLATFORM_PACKAGES
