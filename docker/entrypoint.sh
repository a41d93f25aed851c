#!/bin/sh
# The image's entrypoint: the Airbyte source. tap-invoca and target-invoca are on PATH too
# (docker run --entrypoint tap-invoca ...). APP_DIR lets the script run outside the image.
exec node "${APP_DIR:-/app}/dist/src/bin/source-invoca.js" "$@"
