"""Parses SQL with a real Snowflake grammar: sqlfluff's Snowflake dialect.

Used by crates/core/tests/snowflake_grammar.rs, which sends every statement the project can
emit in one run (one process, so the grammar is loaded once).

Input (stdin): a JSON array of {"name": str, "sql": str, "kind": "statement" | "block"}.
  "statement": one SQL statement (named `:name` placeholders allowed, `?` is not);
  "block":     a Snowflake Scripting block (a procedure's $$ body) parsed on its own.
Output (stdout): a JSON object {"sqlfluff": version, "results": [{"name", "ok", "message"}]}
in input order. Exit status 0 when it could judge every input, 3 when sqlfluff is missing.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    try:
        import sqlfluff
        from sqlfluff.core import FluffConfig, Linter
    except ImportError:
        print(
            f"sqlfluff is not installed in the emulator's Python environment ({sys.executable}); "
            "run `bash .ci/run` (it installs emulator/requirements.txt)",
            file=sys.stderr,
        )
        return 3
    linter = Linter(config=FluffConfig(overrides={"dialect": "snowflake"}))
    results = [judge(linter, item) for item in json.load(sys.stdin)]
    json.dump({"sqlfluff": sqlfluff.__version__, "results": results}, sys.stdout)
    return 0


def judge(linter: object, item: dict) -> dict:
    parsed = linter.parse_string(item["sql"])  # type: ignore[attr-defined]
    problems = [violation.desc() for violation in parsed.violations]
    tree = parsed.tree
    if tree is None:
        problems.append("sqlfluff produced no parse tree")
    elif not problems:
        kinds = [_kind(segment) for segment in tree.segments if segment.is_type("statement")]
        if item["kind"] == "statement" and len(kinds) != 1:
            problems.append(f"expected exactly one statement, sqlfluff found {len(kinds)}: {', '.join(kinds)}")
        # sqlfluff parses a block's DECLARE section as a statement of its own
        if item["kind"] == "block" and kinds not in (
            ["scripting_block_statement"],
            ["scripting_declare_statement", "scripting_block_statement"],
        ):
            problems.append(f"expected one Snowflake Scripting block ([DECLARE ...] BEGIN ... END), sqlfluff found: {', '.join(kinds)}")
    return {"name": item["name"], "ok": not problems, "message": "; ".join(problems)}


def _kind(statement: object) -> str:
    inner = [segment.get_type() for segment in statement.segments]  # type: ignore[attr-defined]
    return inner[0] if len(inner) == 1 else "statement"


if __name__ == "__main__":
    sys.exit(main())
