#!/usr/bin/env bash
# The web application's own checks, run by ctest: every locked package runs on Debian 12's
# Node.js, the TypeScript types (strict), ESLint, and the vitest unit tests of the UI logic.
set -euo pipefail
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v node >/dev/null || { echo "web: node is not installed (./hoso test installs it)" >&2; exit 1; }
. "$WEB/e2e/npm.sh"
web_npm_ci "$WEB"
cd "$WEB"
node e2e/engines.mjs
npx tsc -p .
echo "ok - TypeScript (strict) finds no error"
npx eslint .
echo "ok - ESLint finds nothing"
npx vitest run
