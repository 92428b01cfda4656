#!/usr/bin/env bash
# `make prod-local`: the production shape on this machine, in staging mode — nginx (Debian's
# package, our own instance) with TLS on https://127.0.0.1:8443, gunicorn with
# deploy/gunicorn.conf.py, the RQ worker, PostgreSQL (database kjxx_staging) and Redis (db 2).
# The same commands as the README's production block; the environment is written to
# $RUN/staging.env (APP_ENV=staging: the test hooks are allowed, only on 127.0.0.1).
# Everything it starts is listed in $RUN/*.pid; `make prod-down` stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
run=${PROD_LOCAL_DIR:-$root/instance/prod-local}
https_port=${PROD_LOCAL_HTTPS_PORT:-8443}
http_port=${PROD_LOCAL_HTTP_PORT:-8080}
app_port=${PROD_LOCAL_APP_PORT:-8001}
database=${PROD_LOCAL_DATABASE:-kjxx_staging}
redis_db=${PROD_LOCAL_REDIS_DB:-2}
mkdir -p "$run"/logs "$run"/tls "$run"/nginx
for tool in nginx openssl psql redis-cli; do
  command -v "$tool" >/dev/null || { echo "prod-local needs $tool (apt-get install nginx openssl postgresql-client redis-tools)" >&2; exit 1; }
done
"$root/deploy/local/down.sh" >/dev/null 2>&1 || true

# The environment, as /etc/kjxx/kjxx.env would hold it in production.
[ -s "$run/secret" ] || python3 -c "import secrets; print(secrets.token_hex(32))" > "$run/secret"
cat > "$run/staging.env" <<ENV
APP_ENV=staging
SECRET_KEY=$(cat "$run/secret")
DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/$database
REDIS_URL=redis://127.0.0.1:6379/$redis_db
TRUST_PROXY=1
BIND=127.0.0.1:$app_port
SMS_BACKEND=${SMS_BACKEND:-outbox}
SMS_OUTBOX=$run/outbox.jsonl
CAPTCHA_TEST_ANSWER=${CAPTCHA_TEST_ANSWER:-TEST}
TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-}
TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-}
TWILIO_FROM_NUMBER=${TWILIO_FROM_NUMBER:-}
TWILIO_BASE_URL=${TWILIO_BASE_URL:-}
JOB_RETRY_DELAYS=${JOB_RETRY_DELAYS:-5,15,60,300}
SMS_PHONE_LIMITS="${SMS_PHONE_LIMITS:-1 per 60 seconds;5 per hour;10 per day}"
SMS_IP_LIMITS="${SMS_IP_LIMITS:-20 per hour;50 per day}"
REGISTER_IP_LIMIT="${REGISTER_IP_LIMIT:-60 per hour}"
RESET_IP_LIMIT="${RESET_IP_LIMIT:-60 per hour}"
GUNICORN_ACCESS_LOG=${GUNICORN_ACCESS_LOG:-$run/logs/gunicorn-access.log}
GUNICORN_ERROR_LOG=$run/logs/gunicorn-error.log
SESSION_IDLE_MINUTES=${SESSION_IDLE_MINUTES:-30}
LOGIN_IP_LIMIT="${LOGIN_IP_LIMIT:-30 per 10 minutes}"
ENV
# Sizing for load tests, only when asked for (gunicorn reads WEB_CONCURRENCY itself).
for name in WEB_CONCURRENCY GUNICORN_THREADS; do
  [ -z "${!name:-}" ] || echo "$name=${!name}" >> "$run/staging.env"
done
set -a; . "$run/staging.env"; set +a

if [ -n "${PROD_LOCAL_FRESH:-}" ]; then  # a run that must not see an earlier run's data
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $database"
  redis-cli -h 127.0.0.1 -n "$redis_db" flushdb >/dev/null
  rm -f "$run/outbox.jsonl"
fi
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$database'" \
  | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $database"
redis-cli -h 127.0.0.1 -n "$redis_db" ping >/dev/null

# The README's production block, verbatim but for the environment file.
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi regions load

if [ ! -s "$run/tls/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$run/tls/key.pem" -out "$run/tls/cert.pem" 2>/dev/null
fi
SERVER_NAME=127.0.0.1 TLS_CERT="$run/tls/cert.pem" TLS_KEY="$run/tls/key.pem" \
  STATIC_ROOT="$root/static" UPSTREAM="127.0.0.1:$app_port" \
  HTTPS_LISTEN="127.0.0.1:$https_port" HTTP_LISTEN="127.0.0.1:$http_port" \
  HTTPS_PORT_SUFFIX=":$https_port" "$root/deploy/nginx/render.sh" > "$run/nginx/site.conf"
sed "s|@RUN@|$run|g" "$root/deploy/local/nginx-main.conf" > "$run/nginx/nginx.conf"
nginx -t -q -c "$run/nginx/nginx.conf" -p "$run/nginx"
nginx -c "$run/nginx/nginx.conf" -p "$run/nginx"

.venv/bin/gunicorn -c deploy/gunicorn.conf.py --daemon --pid "$run/gunicorn.pid" wsgi:app
nohup .venv/bin/flask --app wsgi jobs work >> "$run/logs/worker.log" 2>&1 &
echo $! > "$run/worker.pid"

for _ in $(seq 60); do
  if curl -fsS --cacert "$run/tls/cert.pem" "https://127.0.0.1:$https_port/healthz" >/dev/null 2>&1; then
    echo "prod-local: https://127.0.0.1:$https_port (environment: $run/staging.env)"
    exit 0
  fi
  sleep 0.5
done
echo "prod-local: not healthy; see $run/logs" >&2
tail -n 30 "$run"/logs/*.log >&2 || true
exit 1
