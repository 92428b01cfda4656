#!/usr/bin/env bash
# `make prod-down`: stop what `make prod-local` started (nginx, gunicorn, the worker).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run=${PROD_LOCAL_DIR:-$root/instance/prod-local}
stop() {  # stop PID-FILE: SIGTERM, wait up to 20 s, then SIGKILL
  local file=$1 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
if [ -s "$run/nginx.pid" ]; then
  nginx -c "$run/nginx/nginx.conf" -p "$run/nginx" -s quit 2>/dev/null || stop "$run/nginx.pid"
  for _ in $(seq 20); do [ -s "$run/nginx.pid" ] || break; sleep 0.25; done
fi
stop "$run/worker.pid"
stop "$run/gunicorn.pid"
echo "prod-local: stopped"
