# One Lockstep node. The server runs its TypeScript through tsx; the clients are built at image build time.
# Node 22 LTS: @fastify/static (content-disposition@3) and fastify's light-my-request (cookie@2) need Node 22 or newer.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY test/package.json test/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY shared shared
COPY server server
COPY client client
RUN npm run build -w @lockstep/client
ENV NODE_ENV=production
# The outage journal's directory, owned by the user the node runs as (a volume mounts here).
RUN mkdir -p /var/lib/lockstep && chown node:node /var/lib/lockstep
EXPOSE 8080
USER node
# A young generation of 64 MB: at thousands of devices the default one promoted each probe's
# short-lived objects, and the old generation's collections were the relay's slowest moments (BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "server/src/main.ts"]
