# The image deploy/ferrolb.yaml runs (ferrolb:dev): both the controller and the speaker.
#   docker build -t ferrolb:dev .
# Not built by CI: the machines CI runs on have no container runtime and no registry
# access. The build stage compiles the N-API addons (native/, with the image's cc) and
# the runtime stage carries only what runs: Node 24, the TypeScript sources (run by
# Node's type stripping), the addons and the production npm packages.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --no-audit --no-fund --loglevel=error
COPY bin ./bin
COPY src ./src
RUN npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/native ./build/native
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
USER 65534:65534
# --max-semi-space-size=2: see bin/ferrolb.js (the controller's memory at 10,000 services).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/bin/ferrolb.js"]
