# tap-invoca: the Airbyte source by default; tap-invoca and target-invoca with --entrypoint.
# README, "Docker"; here without a Docker engine: npm run image (podman), npm run test:image.
#   docker build -t tap-invoca .
#   docker run --rm tap-invoca spec
#   docker run --rm -v "$PWD:/config:ro" tap-invoca check --config /config/config.json
#   docker run --rm -i --entrypoint tap-invoca -v "$PWD:/config:ro" tap-invoca --config /config/config.json
#   docker run -d --user "$(id -u):$(id -g)" -v "$PWD:/work" --entrypoint /app/docker/follow.sh tap-invoca config.json loader.json

# Node.js 24 LTS (Node 20 reached its end of life on 2026-04-30), pinned to the release the tests
# run on (scripts/node.sh). To pin by digest where a registry serves the image:
#   docker buildx imagetools inspect node:24.22.3-bookworm-slim   # then BASE_IMAGE=node:24.22.3-bookworm-slim@sha256:...
# npm run image builds on a local stand-in instead where no registry serves it (scripts/image.sh).
ARG BASE_IMAGE=node:24.22.3-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json ./
# A build host behind a TLS-inspecting proxy hands its CA in as a build secret (never a layer):
#   docker build --secret id=npm_ca,src=/path/to/ca.pem .
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY schemas ./schemas
# Production dependencies only, without what Node never loads at run time: type declarations,
# source maps, markdown, and @azure/msal-browser (the browser build of MSAL; @azure/identity's
# Node build never requires it). test/image/image.test.ts loads every driver path in the image.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@azure/msal-browser \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -delete

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL io.airbyte.name="airbyte/source-invoca" \
      io.airbyte.version="${VERSION}" \
      org.opencontainers.image.title="tap-invoca" \
      org.opencontainers.image.description="Invoca Transactions API: Airbyte source, Singer tap and correction-merging loader"
# glibc keeps what DuckDB frees in per-thread arenas: one arena, and its 256 KB blocks mapped and
# unmapped rather than kept, lower target-invoca's peak at 1M rows from 1.37 to 1.18 GB at the
# same speed (docs/performance.md, "Memory").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    AIRBYTE_ENTRYPOINT="/app/docker/entrypoint.sh"
WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY schemas ./schemas
COPY catalog.json ./catalog.json
COPY docker/entrypoint.sh docker/follow.sh docker/healthcheck.mjs ./docker/
RUN ln -s /app/dist/src/bin/tap-invoca.js /usr/local/bin/tap-invoca \
 && ln -s /app/dist/src/bin/target-invoca.js /usr/local/bin/target-invoca \
 && ln -s /app/dist/src/bin/source-invoca.js /usr/local/bin/source-invoca \
 && ln -s /app/dist/src/bin/invoca-simulator.js /usr/local/bin/invoca-simulator \
 && mkdir /work && chown node:node /work
USER node
# A working directory the node user can write: relative paths (duckdb.path's default
# invoca.duckdb, a state file) land here. Mount a host folder over it to keep them.
WORKDIR /work
# /metrics and /healthz of tap-invoca --follow and target-invoca, when their configs set
# metrics_port to these (README, "Operating it"); the check asks both, and passes when neither serves.
EXPOSE 9464 9465
HEALTHCHECK --interval=60s --timeout=15s --start-period=120s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
