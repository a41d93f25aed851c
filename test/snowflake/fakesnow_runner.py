"""Runs SQL statements through fakesnow (Snowflake's Python connector, patched onto DuckDB).

The Snowflake loader's generated SQL is executed here, exactly as generated, to prove its
dialect and semantics: no emulator serves the Node snowflake-sdk's JSON result format, so the
Node tests hand the statements to this script (see test/integration/snowflake.test.ts).

stdin: {"db_path": str, "steps": [{"sql": str, "rows": [[...], ...] | null, "fetch": bool}]}
stdout: {"results": [[{column: value}, ...] | null per step]}  or  {"error": str, "step": int}
"""
import json
import sys
from decimal import Decimal

import fakesnow
import snowflake.connector


def plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def main() -> int:
    request = json.load(sys.stdin)
    results = []
    with fakesnow.patch(db_path=request["db_path"]):
        connection = snowflake.connector.connect(database="ANALYTICS", schema="INVOCA")
        cursor = connection.cursor()
        for index, step in enumerate(request["steps"]):
            try:
                if step.get("rows") is not None:
                    cursor.executemany(step["sql"], step["rows"])
                else:
                    cursor.execute(step["sql"])
                if step.get("fetch"):
                    names = [column[0] for column in cursor.description]
                    results.append([{name: plain(value) for name, value in zip(names, row)} for row in cursor.fetchall()])
                else:
                    results.append(cursor.rowcount)
            except Exception as error:  # report which statement failed, then stop
                print(json.dumps({"error": f"{type(error).__name__}: {error}", "step": index, "sql": step["sql"][:300]}))
                return 1
        connection.close()
    print(json.dumps({"results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
