# syntax=docker/dockerfile:1
# Flackyness server + dashboard in one image (the dashboard is served on the same port; the
# compose file can also run it as its own service from this image).

FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc tsconfig.base.json ./
COPY reporter/package.json reporter/
COPY server/package.json server/
COPY dashboard/package.json dashboard/
COPY mcp/package.json mcp/
RUN pnpm install --frozen-lockfile
COPY reporter reporter
COPY server server
COPY dashboard dashboard
COPY mcp mcp
COPY prisma prisma
RUN pnpm build \
	&& CI=true pnpm install --frozen-lockfile --prod --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
	CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "server/dist/server.js"]
