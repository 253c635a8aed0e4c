# syntax=docker/dockerfile:1
#
# buildflow image, for users who deploy with containers.
# UNTESTED HERE: the machines this repository is developed and tested on have no container engine,
# so this file has never been built or run by the project's CI. It follows the commands that are
# tested (`npm ci`, `npm run build`, `node bin/buildflow.js …`); please report what breaks.
#
#   docker build -t buildflow .
#   docker run --rm -p 3000:3000 -v buildflow-data:/var/lib/buildflow buildflow          # embedded SQLite
#   docker run --rm buildflow worker --help
#
# compose.yaml runs the scale-out deployment (Postgres, Redis, API and worker processes) from it.

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native addon when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so the layer is reused until the lockfile changes. --ignore-scripts keeps the
# package's own `prepare` (a build) from running before the sources are here; better-sqlite3 is the
# one dependency with an install script, run by the rebuild.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    BUILDFLOW_DATA_DIR=/var/lib/buildflow
WORKDIR /app
# The application stays owned by root (read-only to the process); only the data directory
# (SQLite file, generated admin key and development token secret) is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/fixtures ./fixtures
RUN mkdir -p /var/lib/buildflow && chown node:node /var/lib/buildflow
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# Liveness of `serve` (the API). Processes that do not serve HTTP (worker, migrate) disable it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BUILDFLOW_PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/buildflow.js"]
CMD ["serve", "--host", "0.0.0.0"]
