# syntax=docker/dockerfile:1
# Node.js image of the same app the Worker serves (for Kubernetes: deploy/k8s/).
# test/node/docker-runtime.test.ts rebuilds both stages outside Docker from the COPY, RUN,
# ENV and CMD lines below and checks /healthz, /readyz and /v1/services: keep them plain
# (no wildcards in COPY, CMD and HEALTHCHECK in exec form).

# --- build: full dependencies, compile src/ to dist/ ------------------------------------
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and the compiled output only ----------------------
FROM node:22-slim AS runtime
ARG APP_VERSION=dev
ENV NODE_ENV=production APP_ENV=production PORT=3000 APP_VERSION=${APP_VERSION}
# V8 grows its heap lazily while memory is free: unbounded, one server peaked at 230-300 MiB
# under load with a live heap of a few tens. These bounds keep it near 130 MiB at the same
# throughput (`npm run bench`, which reads this line; a 4 MiB young generation cost 10-20%).
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/src/node.js is the server, and `node dist/src/node.js migrate` the migration Job.
COPY --from=build /app/dist ./dist
# Read at start (PGlite) and by the migrate command: dist/src/db/migrate.js looks three levels up.
COPY migrations ./migrations
# Everything above is owned by root and read-only to the app; it writes nothing to disk
# when DATABASE_URL is set (Kubernetes runs it with a read-only root filesystem).
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# No wrapper process: SIGTERM must reach node itself for the graceful drain.
CMD ["node", "dist/src/node.js"]
