#!/usr/bin/env bash
# Print deploy/nginx/kjxx.conf with its placeholders filled in from the environment:
#   SERVER_NAME TLS_CERT TLS_KEY STATIC_ROOT UPSTREAM HTTPS_LISTEN HTTP_LISTEN [HTTPS_PORT_SUFFIX]
# e.g. SERVER_NAME=kjxx.czt.yn.gov.cn TLS_CERT=/etc/ssl/kjxx.pem TLS_KEY=/etc/ssl/kjxx.key \
#      STATIC_ROOT=/srv/kjxx/static UPSTREAM=127.0.0.1:8000 HTTPS_LISTEN=443 HTTP_LISTEN=80 \
#      deploy/nginx/render.sh > /etc/nginx/sites-available/kjxx.conf
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for name in SERVER_NAME TLS_CERT TLS_KEY STATIC_ROOT UPSTREAM HTTPS_LISTEN HTTP_LISTEN; do
  [ -n "${!name:-}" ] || { echo "render.sh: $name must be set" >&2; exit 2; }
done
sed -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@TLS_CERT@|$TLS_CERT|g" \
    -e "s|@TLS_KEY@|$TLS_KEY|g" -e "s|@STATIC_ROOT@|$STATIC_ROOT|g" \
    -e "s|@UPSTREAM@|$UPSTREAM|g" -e "s|@HTTPS_LISTEN@|$HTTPS_LISTEN|g" \
    -e "s|@HTTP_LISTEN@|$HTTP_LISTEN|g" -e "s|@HTTPS_PORT_SUFFIX@|${HTTPS_PORT_SUFFIX:-}|g" \
    "$here/kjxx.conf"
