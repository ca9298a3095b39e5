"""README's two set-up commands are its first lines, and .ci/run runs exactly them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0].startswith("# "), "README starts with its title"
    fence = [i for i, line in enumerate(lines[:10]) if line.strip() == "```"]
    assert len(fence) >= 2, "the set-up commands are a code block right under the title"
    return [line.strip() for line in lines[fence[0] + 1 : fence[1]] if line.strip()]


def test_readme_opens_with_install_then_test_command():
    install, test = readme_commands()
    assert install.startswith("pip install -e ") and "torch==2.13.0" in install
    assert test.startswith("pytest")


def test_ci_runs_the_readme_commands_in_order():
    install, test = readme_commands()
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith(("#", "set ", "cd ", "export "))
    ]
    assert commands[:2] == [install, test]
