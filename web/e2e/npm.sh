# Sourced by the web test drivers: installs web/'s pinned packages (npm ci) once per change of
# package-lock.json, under a lock, since the unit and browser tests may run side by side.
web_npm_ci() {
  local web="$1"
  (
    flock 9
    cd "$web"
    local stamp="node_modules/.hoso-lock-sha"
    local want
    want="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      echo "$want" >"$stamp"
    fi
    sh scripts/gen.sh
  ) 9>"/tmp/hoso-web-npm.lock"
}
