# apim-emulator as a container: the compiled CLI on node:20-slim, serving the bundled example by default.
#   docker build -t apim-emulator .
#   docker run --rm -p 8080:8080 apim-emulator
# Your own files: docker run --rm -p 8080:8080 -v "$PWD:/work" -w /work apim-emulator serve --config apim-emulator.json --host 0.0.0.0

# Build stage: dev dependencies and the TypeScript sources, compiled to dist/ (tsc, as `npm run build`).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/prune-dist.mjs ./scripts/
COPY src ./src
RUN npm run build

# Run stage: production dependencies, dist/ and the files the CLI reads at run time; no sources, no dev tools.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
COPY policies/example ./policies/example
COPY examples/scenarios ./examples/scenarios
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:8080/_emulator/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/apim-emulator.js"]
CMD ["serve", "--config", "policies/example/apim-emulator.json", "--mock-backends", "--host", "0.0.0.0", "--port", "8080"]
