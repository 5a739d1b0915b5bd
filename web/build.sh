#!/usr/bin/env bash
# Builds the web app into OUT (default web/dist): installs its npm packages when package.json
# changed, type-checks, and runs the two Vite builds (pages, then the service worker).
# `make build` calls it with build/web, where `satload serve` looks by default.
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/dist}")
cd "$(dirname "$0")"
if [[ ! -d node_modules || package.json -nt node_modules/.installed ]]; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.installed
fi
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p tsconfig.sw.json
npx vite build --logLevel warn --outDir "$out"
npx vite build --logLevel warn --config vite.sw.config.ts --outDir "$out"
echo "built the web app in $out" >&2
