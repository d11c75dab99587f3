# syntax=docker/dockerfile:1
# Build stage: install all dependencies (native hnswlib-node builds here) and compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled code, production dependencies, the example reference prompts; runs as the unprivileged node user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node reference-prompts ./reference-prompts
COPY --chown=node:node models ./models
RUN mkdir -p /app/.cache && chown node:node /app/.cache
USER node
EXPOSE 8080
# Mount a config at /config/switchyard.yaml, models at /app/models and reference prompts at /app/reference-prompts.
VOLUME ["/app/.cache"]
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
