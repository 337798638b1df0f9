"""Rewrite pipeline/resources/*.json in the house layout: one list entry per line.

Keeps diffs of lexicon edits to the lines that changed. Run after editing a resource by script.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "pipeline" / "resources"


def dump(data: dict[str, object]) -> str:
    lines = ["{"]
    items = list(data.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {json.dumps(key)}: [")
            for j, entry in enumerate(value):
                sep = "," if j < len(value) - 1 else ""
                lines.append(f"    {json.dumps(entry, ensure_ascii=False)}{sep}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> None:
    for path in sorted(RESOURCES.glob("*.json")):
        if names and path.name not in names:
            continue
        path.write_text(dump(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
