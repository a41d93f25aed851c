"""Parses every statement `target-invoca sql --format json` prints with sqlglot, in the engine's
dialect. Reads the JSON document on stdin; prints {"statements": N, "errors": [...]} and exits 1
when any statement fails. sqlglot is lenient: a statement it only keeps as an opaque Command was
not understood, and counts as a failure (except the few kinds sqlglot has no model for)."""
import json
import sys

import sqlglot
from sqlglot import exp

# Statements sqlglot keeps as a Command by design in these dialects: checked by name only.
OPAQUE_OK = ("ALTER SESSION", "BEGIN", "COMMIT", "PUT ", "REMOVE ")


def main() -> int:
    document = json.load(sys.stdin)
    dialect = document["engine"]
    errors = []
    count = 0
    for name in ("setup", "batch"):
        for index, sql in enumerate(document[name]):
            try:
                parsed = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
            except Exception as error:  # sqlglot raises ParseError and TokenError
                errors.append({"list": name, "index": index, "error": str(error).splitlines()[0], "statement": sql[:300]})
                continue
            for statement in parsed:
                if statement is None:
                    continue
                count += 1
                text = statement.sql(dialect=dialect)
                if isinstance(statement, exp.Command) and not text.upper().startswith(OPAQUE_OK):
                    errors.append({"list": name, "index": index, "error": "not understood (parsed as an opaque Command)", "statement": sql[:300]})
    print(json.dumps({"statements": count, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
