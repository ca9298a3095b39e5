"""The CI workflow of the sweep (``.github/workflows/sweep.yml``) uses the command as it is: every
``layer-conformance`` command line in it parses, and every matrix field it reads is a field of the plan's jobs.
(``tox -e lint`` runs actionlint over it.)"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from layer_conformance.tools import cli, jobs, sweep

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "sweep.yml"
#: What the workflow's variables hold in a run (the defaults it sets).
VALUES = {
    "$TARGETS": "",
    '"$SHARDS"': "4",
    '"$TORCH"': "2.13.0",
    '"${{ matrix.id }}"': "shard-1-of-4",
    "slices/*": "slices/slice-shard-1-of-4",
}


def _commands() -> list[list[str]]:
    lines = [line.strip().removeprefix("run:").strip() for line in WORKFLOW.read_text().splitlines()]
    found = []
    for line in lines:
        if "layer-conformance sweep" not in line:
            continue
        line = line[line.index("layer-conformance sweep") :].split(")")[0]  # inside $( ... ) too
        for name, value in VALUES.items():
            line = line.replace(name, value)
        found.append(shlex.split(line))
    return found


def test_every_sweep_command_of_the_workflow_parses():
    commands = _commands()
    kinds = {"--plan" in c and "plan" or "merge" in c and "merge" or "--job" in c and "job" for c in commands}
    assert kinds == {"plan", "job", "merge"}, commands
    for command in commands:
        assert command[:2] == ["layer-conformance", "sweep"]
        if command[2] == "merge":
            jobs._merge_parser().parse_args(command[3:])
        else:
            sweep.parse(command[2:])


def test_the_matrix_fields_the_workflow_reads_are_fields_of_the_plan(capsys):
    used = set(re.findall(r"\{\{\s*matrix\.([\w-]+)", WORKFLOW.read_text()))
    assert used, "the workflow reads no matrix field"
    assert cli.main(["sweep", "--plan", "--shards", "4", "--times", str(ROOT / "docs" / "sweep.json")]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan) == 4 and all(used <= set(job) for job in plan), (used, plan[0])
