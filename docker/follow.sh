#!/bin/bash
# A long-running sync in one container: `tap-invoca --follow | target-invoca`, resuming from and
# keeping the state file. Usage (paths relative to the working directory):
#
#   follow.sh <tap config> <loader config> [state file, default state.json]
#
# SIGTERM / SIGINT (docker stop, podman stop) go to the tap, which ends its poll and writes a
# final STATE; the target then commits what it has, echoes the state, and the script ends with
# 128 + the signal's number, also as PID 1 (where a shell ignores signals it does not trap).
set -u
config=${1:?usage: follow.sh <tap config> <loader config> [state file]}
loader=${2:?usage: follow.sh <tap config> <loader config> [state file]}
state=${3:-state.json}

resume=()
if [ -s "$state" ]; then resume=(--state "$state"); fi

# The state file always holds the last state the target echoed (replaced whole, never half written).
keep_state() {
  while IFS= read -r line; do
    printf '%s\n' "$line" > "$state.tmp" && mv "$state.tmp" "$state"
  done
}

pipe_dir=$(mktemp -d)
mkfifo "$pipe_dir/messages" "$pipe_dir/states"
keep_state < "$pipe_dir/states" &
keeper=$!
target-invoca --config "$loader" < "$pipe_dir/messages" > "$pipe_dir/states" &
target=$!
tap-invoca --config "$config" "${resume[@]}" --follow > "$pipe_dir/messages" &
tap=$!

stopped_by=0
stop() {
  stopped_by=$1
  kill -s "$2" "$tap" 2> /dev/null
}
trap 'stop 143 TERM' TERM
trap 'stop 130 INT' INT

# `wait` returns early when a trapped signal arrives: wait until the tap is really gone.
while :; do
  wait "$tap"
  tap_status=$?
  kill -0 "$tap" 2> /dev/null || break
done
wait "$target"
target_status=$?
wait "$keeper"
rm -rf "$pipe_dir"

if [ "$target_status" -ne 0 ]; then exit "$target_status"; fi
if [ "$stopped_by" -ne 0 ]; then exit "$stopped_by"; fi
exit "$tap_status"
