"""Validates Airbyte messages (one JSON object per stdin line) against the Airbyte protocol's
published models (the airbyte-protocol-models package, generated from the protocol's schema).

stdout: {"valid": N, "errors": ["line K: ...", ...]}; exit 1 when any line is invalid.
"""
import json
import sys

from airbyte_protocol.models import AirbyteMessage


def main() -> int:
    valid = 0
    errors = []
    for number, line in enumerate(sys.stdin, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            AirbyteMessage.parse_obj(json.loads(line))
            valid += 1
        except Exception as error:  # report every invalid line
            errors.append(f"line {number}: {error}".replace("\n", " "))
    print(json.dumps({"valid": valid, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
