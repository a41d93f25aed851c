"""PyAirbyte (PyPI `airbyte`, Airbyte's own Python client) runs source-invoca as a local executable:
check, discover, then a read into its DuckDB cache, whose final table has an Airbyte destination's
layout (typed columns and `_airbyte_*`). A second call with the same cache reads incrementally from
the state PyAirbyte kept there.

argv: <source-invoca executable> <config.json> <cache dir>
stdout: {"check": "SUCCEEDED", "streams": [...], "records": {"transactions": n}, "cache": "<duckdb file>"}
"""
import json
import sys

import airbyte as ab


def main() -> int:
    executable, config_path, cache_dir = sys.argv[1:4]
    with open(config_path, encoding="utf-8") as file:
        config = json.load(file)
    source = ab.get_source("source-invoca", config=config, local_executable=executable)
    source.check()  # raises when the connection status is FAILED
    streams = source.get_available_streams()
    source.select_all_streams()
    cache = ab.new_local_cache(cache_name="invoca", cache_dir=cache_dir)
    result = source.read(cache=cache)
    records = {name: len(dataset) for name, dataset in result.streams.items()}
    print(json.dumps({"check": "SUCCEEDED", "streams": streams, "records": records, "cache": str(cache.db_path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
