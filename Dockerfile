# The console's static files: built with its dev dependencies (Vite), which the image leaves out.
FROM node:20-bookworm-slim AS console
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY . .
RUN npx --yes pnpm@12.4.2 install --frozen-lockfile --filter "@spotter/console..." \
  && node -e "import('./scripts/lib.mjs').then((m) => m.ensureConsole())"

# One image for the API and the worker; docker-compose picks the entry point.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# Every workspace package's manifest, so the frozen lockfile matches the workspace.
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY apps/console/package.json apps/console/
COPY bench/package.json bench/
COPY packages/shared/package.json packages/shared/
COPY packages/imaging/package.json packages/imaging/
COPY packages/detector/package.json packages/detector/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/evaluation/package.json packages/evaluation/
COPY packages/monitoring/package.json packages/monitoring/
COPY packages/config/package.json packages/config/
COPY packages/storage/package.json packages/storage/
COPY packages/stores/package.json packages/stores/
COPY packages/vision/package.json packages/vision/
COPY packages/webhooks/package.json packages/webhooks/
COPY packages/jobs/package.json packages/jobs/
COPY packages/models/package.json packages/models/
RUN npx --yes pnpm@12.4.2 install --frozen-lockfile --prod
COPY . .
COPY --from=console /app/apps/console/dist apps/console/dist
# The default model, downloaded and checked at build time (or mount ./models over /app/models).
RUN node -e "import('./scripts/lib.mjs').then((m) => m.ensureModel())"
USER node
EXPOSE 8080 9464
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
