"""fakesnow's Snowflake REST server, as the Node snowflake-sdk can talk to it.

fakesnow's server (fakesnow.server: login, query-request, sessions, over HTTP on DuckDB) answers
query results in Arrow, which the Python connector reads and the Node driver does not: the
Node driver reads Snowflake's JSON result format (rowset: rows of strings). This wraps the app
with one translation, Arrow rows to JSON rows, and nothing else; the SQL runs on fakesnow.

It also lets a test take the warehouse away: with --stop-on REGEX the process exits, without
answering, when a statement matching it arrives (the statement is not run), as a warehouse or
network going away mid-batch looks to the loader.

Usage: fakesnow_server.py --db-path DIR [--stop-on REGEX] [--port N]
Prints `listening on PORT` on stdout once it accepts connections.
"""
import argparse
import base64
import datetime
import gzip
import json
import os
import re
import socket
import sys
from decimal import Decimal

import pyarrow as pa
import uvicorn

import fakesnow.server as fakesnow_server
from fakesnow.instance import FakeSnow


def json_value(value):
    """One Arrow value as Snowflake's JSON result format writes it: a string, or null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict) and "epoch" in value:  # fakesnow's timestamp struct
        return f"{value['epoch']}.{value.get('fraction', 0) or 0:09d}"
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return str((value - datetime.date(1970, 1, 1)).days)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (int, Decimal, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise TypeError(f"no JSON form for a {type(value).__name__} result value")


def arrow_rows(rowset_base64: str) -> list[list]:
    if not rowset_base64:
        return []
    table = pa.ipc.open_stream(base64.b64decode(rowset_base64)).read_all()
    columns = [column.to_pylist() for column in table.columns]
    return [[json_value(value) for value in row] for row in zip(*columns)]


class NodeDriverResults:
    """ASGI middleware: Arrow query results become JSON rowsets; --stop-on ends the process."""

    def __init__(self, app, stop_on: re.Pattern | None):
        self.app = app
        self.stop_on = stop_on

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/queries/v1/query-request":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if self.stop_on:
            headers = dict(scope["headers"])
            plain = gzip.decompress(body) if headers.get(b"content-encoding") == b"gzip" else body
            if self.stop_on.search(json.loads(plain).get("sqlText", "")):
                sys.stdout.write("stopping\n")
                sys.stdout.flush()
                os._exit(0)

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        response = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                response["start"] = message
            else:
                response.setdefault("body", []).append(message.get("body", b""))

        await self.app(scope, replay, capture)
        payload = b"".join(response.get("body", []))
        try:
            document = json.loads(payload)
            data = document.get("data") or {}
            if data.get("queryResultFormat") == "arrow":
                data["rowset"] = arrow_rows(data.pop("rowsetBase64", ""))
                data["queryResultFormat"] = "json"
            if "rowset" in data:
                # Snowflake always says how many rows the first chunk holds; the Node driver waits
                # for rows until it has that many.
                data["returned"] = len(data["rowset"])
                payload = json.dumps(document).encode()
        except ValueError:
            pass
        start = response["start"]
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-path", required=True)
    parser.add_argument("--stop-on")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--session-roles",
        default="SYSADMIN",
        help="the roles IS_ROLE_IN_SESSION answers true for (comma-separated); fakesnow's tables are owned by SYSADMIN",
    )
    args = parser.parse_args()
    # Every session shares one database kept in --db-path, so a restarted server sees the data.
    # fakesnow implements no session parameters: the loader's ALTER SESSION (its guards, checked
    # by the Snowflake SQL tests) succeeds without effect.
    shared = FakeSnow(db_path=args.db_path, nop_regexes=[r"^\s*ALTER SESSION SET "])
    # fakesnow has no roles: IS_ROLE_IN_SESSION(role) answers from --session-roles, so a test can
    # give the session a role that does not own the existing tables.
    roles = ", ".join("'" + role.replace("'", "''") + "'" for role in args.session_roles.split(","))
    connect = shared.connect

    def connect_with_roles(*positional, **named):
        connection = connect(*positional, **named)
        connection._duck_conn.execute(f"CREATE OR REPLACE TEMP MACRO is_role_in_session(r) AS r IN ({roles})")  # noqa: SLF001
        return connection

    shared.connect = connect_with_roles
    fakesnow_server.shared_fs = shared
    app = NodeDriverResults(fakesnow_server.app, re.compile(args.stop_on) if args.stop_on else None)
    listener = socket.socket()
    # A restarted server takes the port of the one stopped, where the driver's retries go.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen()
    sys.stdout.write(f"listening on {listener.getsockname()[1]}\n")
    sys.stdout.flush()
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
