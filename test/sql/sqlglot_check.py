"""Parses every statement `target-invoca sql --format json` prints with sqlglot, in the engine's
dialect. Reads the JSON document on stdin; prints {"statements": N, "errors": [...]} and exits 1
when any statement fails. sqlglot is lenient: a statement it only keeps as an opaque Command was
not understood, and counts as a failure (except the few kinds sqlglot has no model for)."""
import json
import re
import sys

import sqlglot
from sqlglot import exp

# Statements sqlglot keeps as a Command by design in these dialects: checked by name only.
OPAQUE_OK = ("ALTER SESSION", "BEGIN", "COMMIT", "PUT ", "REMOVE ")

# BigQuery's `IF condition THEN ... END IF` (on lines of their own, as the loader writes them),
# which sqlglot has no model of: the condition is checked as a SELECT, the body as it is.
# GoogleSQL's own parser checks the IF itself (tools/googlesql-check).
IF_THEN = re.compile(r"^IF (.+) THEN$", re.MULTILINE)
END_IF = re.compile(r"^END IF;", re.MULTILINE)


def unwrap_if(sql: str) -> str:
    return END_IF.sub("", IF_THEN.sub(r"SELECT \1;", sql))


def main() -> int:
    document = json.load(sys.stdin)
    dialect = document["engine"]
    errors = []
    count = 0
    for name in ("setup", "batch"):
        for index, sql in enumerate(document[name]):
            try:
                parsed = sqlglot.parse(unwrap_if(sql), read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
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
