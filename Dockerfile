# tap-invoca: the Airbyte source by default; tap-invoca and target-invoca with --entrypoint.
#   docker build -t tap-invoca .
#   docker run --rm tap-invoca spec
#   docker run --rm -v "$PWD:/work" tap-invoca check --config /work/config.json
#   docker run --rm -i --entrypoint tap-invoca -v "$PWD:/work" tap-invoca --config /work/config.json
#   docker run -d -v "$PWD:/work" -w /work --entrypoint /app/docker/follow.sh tap-invoca config.json loader.json

FROM node:20.20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20-bookworm-slim
ARG VERSION=0.1.0
LABEL io.airbyte.name="airbyte/source-invoca" \
      io.airbyte.version="${VERSION}" \
      org.opencontainers.image.title="tap-invoca" \
      org.opencontainers.image.description="Invoca Transactions API: Airbyte source, Singer tap and correction-merging loader"
ENV NODE_ENV=production \
    AIRBYTE_ENTRYPOINT="/app/docker/entrypoint.sh"
WORKDIR /app
COPY --from=build /build/package.json ./package.json
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY schemas ./schemas
COPY catalog.json ./catalog.json
COPY docker/entrypoint.sh docker/follow.sh ./docker/
RUN ln -s /app/dist/src/bin/tap-invoca.js /usr/local/bin/tap-invoca \
 && ln -s /app/dist/src/bin/target-invoca.js /usr/local/bin/target-invoca \
 && ln -s /app/dist/src/bin/source-invoca.js /usr/local/bin/source-invoca \
 && ln -s /app/dist/src/bin/invoca-simulator.js /usr/local/bin/invoca-simulator
USER node
ENTRYPOINT ["/app/docker/entrypoint.sh"]
