# The image deploy/ferrolb.yaml runs (ferrolb:dev): both the controller and the speaker.
#   docker build -t ferrolb:dev .
# The lab builds it from this same file with buildah (lab/build-image.sh, docs/LAB.md).
# The build stage compiles the N-API addons (native/, with the image's cc) and the
# TypeScript sources into JavaScript (scripts/build.sh -> build/js: without Node's type
# stripper each process is ~30 MB smaller, docs/BENCHMARKS.md "Footprint"); the runtime
# stage carries only what runs: Node 24, the compiled JavaScript, the addons and the
# production npm packages. No sources: bin/ferrolb.js then always runs build/js.
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.sh ./scripts/build.sh
COPY bin ./bin
COPY src ./src
RUN bash scripts/build.sh
RUN npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/native ./build/native
COPY --from=build /app/build/js ./build/js
COPY --from=build /app/bin ./bin
USER 65534:65534
# --max-semi-space-size=2: see bin/ferrolb.js (the controller's memory at 10,000 services;
# both daemons' other V8 flags, --no-opt --no-maglev --optimize-for-size, are set there,
# before any of ferrolb's code is compiled).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/bin/ferrolb.js"]
