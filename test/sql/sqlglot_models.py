"""Checks compiled dbt models for Snowflake with sqlglot: each is parsed in the Snowflake dialect
and its column references resolved (sqlglot's qualify, validating every column) against the
tables target-invoca writes and the models before it, whose output columns it then adds.

stdin: {"dialect": "snowflake", "tables": [{"path": [db, schema, table], "columns": [{"name"}]}],
        "models": [{"path": [db, schema, name] or [], "sql": "..."}]}
An entry without a path (a hook's DELETE) is parsed only. Prints {"statements": N, "errors": [...]},
exit 1 when any failed."""
import json
import sys

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema


def main() -> int:
    document = json.load(sys.stdin)
    dialect = document["dialect"]
    schema = MappingSchema(dialect=dialect)
    for table in document["tables"]:
        schema.add_table(exp.table_(table["path"][2], db=table["path"][1], catalog=table["path"][0]),
                         {column["name"]: "VARCHAR" for column in table["columns"]}, dialect=dialect)
    errors = []
    for index, model in enumerate(document["models"]):
        try:
            parsed = sqlglot.parse_one(model["sql"], read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
            if isinstance(parsed, exp.Command):
                raise ValueError("not understood (parsed as an opaque Command)")
            if not model["path"]:
                continue
            qualified = qualify(parsed, schema=schema, dialect=dialect, validate_qualify_columns=True)
            db, schema_name, name = model["path"]
            schema.add_table(exp.table_(name, db=schema_name, catalog=db),
                             {column: "VARCHAR" for column in qualified.named_selects}, dialect=dialect)
        except Exception as error:  # sqlglot raises ParseError, TokenError and OptimizeError
            errors.append({"list": "models", "index": index, "error": str(error).splitlines()[0], "statement": model["sql"][:300]})
    print(json.dumps({"statements": len(document["models"]), "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
