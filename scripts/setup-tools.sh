#!/usr/bin/env bash
# Installs the external tools the test suites run against, idempotently: the Go-built BigQuery
# emulator and GoogleSQL checker in .tools/bin and the Python tools in their venvs. `npm test` runs it first, so a
# fresh clone runs every suite; when everything is in place it takes about a second.
#
# Each tool records what it was built from (a hash of its pins and of the toolchain) in a stamp
# file next to it; a tool is rebuilt only when that changes or the tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

is_current() { # <stamp file> <fingerprint>
  [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]
}

# The BigQuery emulator (goccy/bigquery-emulator, pinned in tools/bigquery-emulator).
go_tool() { # <module dir under tools/> <binary name> <package>
  local dir=tools/$1 binary=.tools/bin/$2 package=$3
  local stamp=$binary.stamp
  local want
  want=$( (go version; cat "$dir/go.mod" "$dir/go.sum" "$dir"/*.go) | sha256sum | cut -c1-16)
  if [ -x "$binary" ] && is_current "$stamp" "$want"; then
    echo "setup: $2 is up to date"
    return
  fi
  echo "setup: building $2 with go (a few minutes the first time, seconds after)"
  mkdir -p .tools/bin
  (cd "$dir" && go build -o "../../$binary" "$package")
  echo "$want" > "$stamp"
}

# A Python venv with the pins of one requirements file (their pins conflict, hence one venv each).
venv() { # <venv dir> <requirements file>
  local dir=$1 requirements=$2
  local stamp=$dir/.requirements.stamp
  local want
  want=$( (python3 --version; cat "$requirements") | sha256sum | cut -c1-16)
  if [ -x "$dir/bin/python" ] && is_current "$stamp" "$want"; then
    echo "setup: $dir is up to date"
    return
  fi
  echo "setup: installing $requirements into $dir"
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
}

go_tool bigquery-emulator bigquery-emulator github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
go_tool googlesql-check googlesql-check .   # GoogleSQL's parser and analyzer over our BigQuery SQL
venv .venv test/requirements.txt                                        # fakesnow, sqlglot, airbyte-protocol-models, hadolint
venv .venv-target-jsonl test/ecosystem/requirements-target-jsonl.txt    # a real Singer target
venv .venv-target-duckdb test/ecosystem/requirements-target-duckdb.txt  # a real SQL Singer target
venv .venv-meltano test/ecosystem/requirements-meltano.txt              # a real meltano
venv .venv-dbt test/ecosystem/requirements-dbt.txt                      # dbt-duckdb, and the BigQuery/Snowflake adapters for dbt parse
venv .venv-pyairbyte test/ecosystem/requirements-pyairbyte.txt          # PyAirbyte: source-invoca as Airbyte's Python client runs it
echo "setup: node $(scripts/node.sh --version) for the suites (scripts/node.sh)"
