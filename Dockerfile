# One image for both app processes: `node dist/bin/server.js` (default) and `node dist/bin/worker.js`.
#   docker build -t ev-billing .
#   docker run ev-billing                          # API + OCPP bridge
#   docker run ev-billing node dist/bin/worker.js  # Temporal worker
# Dependencies are installed with `npm install`, which follows package-lock.json (`npm ci` rejects this
# dependency tree).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, TypeScript -> dist/ --------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies and the compiled code, as a non-root user -------------------
FROM ${NODE_IMAGE} AS runtime
# CA roots for TLS from the native Temporal client (Temporal Cloud / TLS clusters).
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (default .data) is the only place the app writes on disk.
RUN mkdir -p /app/.data && chown node:node /app/.data
# The node images ship an unprivileged `node` user (uid 1000); the code stays root-owned, read-only to it.
USER node
EXPOSE 3000 9000
CMD ["node", "dist/bin/server.js"]
