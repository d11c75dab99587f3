# syntax=docker/dockerfile:1
# Build stage: dependencies (the native HNSW index compiles here), the gateway compiled from src/, then only what runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Install scripts stay off (onnxruntime-node's would download CUDA libraries); hnswlib-node's addon is built explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild hnswlib-node
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.mjs && npm prune --omit=dev --ignore-scripts --no-audit --no-fund && node scripts/prune-image.mjs

# Runtime stage: the compiled gateway, production dependencies, the example reference prompts; runs as the unprivileged node user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/src ./dist/src
COPY --chown=node:node package.json ./
COPY --chown=node:node reference-prompts ./reference-prompts
COPY --chown=node:node models ./models
COPY --chown=node:node pricing ./pricing
RUN mkdir -p /app/.cache && chown node:node /app/.cache
USER node
EXPOSE 8080
# Mount a config at /config/switchyard.yaml (SWITCHYARD_CONFIG=/config/switchyard.yaml); paths in it are relative to it.
VOLUME ["/app/.cache"]
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
