# Spotter's production images: one target per process, compiled JavaScript on plain node.
#   docker build --target api -t spotter-api:0.1.0 .
#   docker build --target worker -t spotter-worker:0.1.0 .
#   docker build --target worker --build-arg ACCELERATOR=cuda -t spotter-worker:0.1.0-gpu .
# The build stage installs everything, compiles (npm run build) and makes each app's
# production tree with scripts/deploy.mjs (pnpm deploy --prod); the runtime stages copy that
# tree only: no TypeScript, no tsx, no devDependencies. See docs/building.md.

# cpu, or cuda for the GPU worker (CUDA 12 + cuDNN 9, onnxruntime-node's CUDA provider).
ARG ACCELERATOR=cpu

FROM node:20.20.2-bookworm-slim AS node

FROM node AS build
WORKDIR /src
# The worker's JPEG decoder (packages/imaging/native) is compiled against Debian's libjpeg-turbo.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libjpeg62-turbo-dev && rm -rf /var/lib/apt/lists/*
# onnxruntime-node's install script would fetch CUDA libraries; the CPU build ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .pnpmfile.cjs ./
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
COPY packages/quantize/package.json packages/quantize/
COPY packages/tracking/package.json packages/tracking/
COPY packages/video/package.json packages/video/
COPY packages/client/package.json packages/client/
RUN npx --yes pnpm@12.4.2 install --frozen-lockfile
COPY . .
# The console's static files are built here with its dev dependencies (Vite) and copied alone.
RUN npm run build \
 && node -e "import('./scripts/lib.mjs').then((m) => m.ensureConsole())" \
 && node scripts/deploy.mjs api /out/api \
 && node scripts/deploy.mjs worker /out/worker
# The default model, downloaded at build time; a sha256 other than the known build's fails
# the build (strict). Deployments with more models mount a directory over /app/models.
RUN node -e "import('./scripts/lib.mjs').then((m) => m.ensureModel({ strict: true }))"

# The GPU worker's onnxruntime-node with its CUDA execution provider: the package's install
# script downloads the provider libraries (onnxruntime's NuGet feed) when asked to.
FROM build AS worker-tree-cpu
FROM build AS worker-tree-cuda
RUN cd /out/worker/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js \
 && test -f bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
FROM worker-tree-${ACCELERATOR} AS worker-tree

# Runtime bases: Node 20 on Debian slim, or on NVIDIA's CUDA runtime (the same node binary).
# Both run as `node`, uid 1000, the user the Kubernetes manifests name.
# Both carry the distribution's ffmpeg and ffprobe: the API probes clips, workers decode them (docs/video.md).
FROM node AS base-cpu
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 AS base-cuda
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/sh --create-home node \
 && apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*

FROM base-cpu AS api
WORKDIR /app
# PRODUCTION_NODE_OPTIONS in scripts/lib.mjs: smaller V8 semi-spaces, measured to lower RSS.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4 PORT=8080 SPOTTER_CONSOLE_DIR=/app/console
COPY --from=build /out/api ./
COPY --from=build /src/apps/console/dist ./console
COPY --from=build /src/models ./models
# Uploads and results with the default SPOTTER_STORAGE (file://./data), owned by the runtime user.
RUN mkdir data && chown node:node data
VOLUME ["/app/data"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]

FROM base-${ACCELERATOR} AS worker
WORKDIR /app
# libjpeg-turbo's runtime for the JPEG decoder: libjpeg62-turbo on Debian, libjpeg62 on the CUDA base's Ubuntu.
RUN apt-get update \
 && (apt-get install -y --no-install-recommends libjpeg62-turbo || apt-get install -y --no-install-recommends libjpeg62) \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4 SPOTTER_METRICS_PORT=9464
COPY --from=worker-tree /out/worker ./
COPY --from=build /src/models ./models
RUN mkdir data && chown node:node data
VOLUME ["/app/data"]
USER node
EXPOSE 9464
# The health port opens once the model is loaded and warmed up.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.SPOTTER_METRICS_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
