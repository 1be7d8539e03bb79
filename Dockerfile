# syntax=docker/dockerfile:1
# Production image: compiled server, production dependencies only, runs as the non-root `node` user.

# ---- build: full dependencies, TypeScript -> dist/
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

# ---- runtime: production dependencies, dist/ and the SQL migrations
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patches ./scripts/patches
# --ignore-scripts: the dependencies' install scripts are only version checks (Baileys' engine check,
# protobufjs); the one that matters, the Baileys patch (scripts/patches), is applied explicitly.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npx patch-package --patch-dir scripts/patches --error-on-fail \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# scripts/run.mjs runs the compiled scripts (npm run db:migrate / npm run pair) when tsx is absent.
COPY scripts/run.mjs ./scripts/run.mjs
# The migrator reads db/migrations/*.sql at runtime (release_command: node dist/scripts/migrate.js).
COPY db ./db
# /data is the Fly volume's mount point (SESSION_PATH=/data/whatsapp-session). A fresh volume is
# mounted owned by root, so the entrypoint starts as root only to chown the session folder, then
# drops to the unprivileged `node` user (setpriv, util-linux) before exec'ing the server.
RUN mkdir -p /data/whatsapp-session && chown -R node:node /data
COPY --chmod=755 scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint
ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]
EXPOSE 3000
CMD ["node", "--enable-source-maps", "dist/src/server.js"]
