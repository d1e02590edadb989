#!/usr/bin/env bash
# Install (as root, with apt-get) and start what the test suite talks to: PostgreSQL, Redis,
# RabbitMQ, Dovecot, Chromium, axe-core. `make test` and `.ci/run` both call it; what it cannot
# provide, the test run names at its end with the command that would.
set -uo pipefail

log() { printf '== %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # name port
  for _ in $(seq 1 60); do port_open "$2" && return 0; sleep 1; done
  echo "$1 did not come up on port $2" >&2; return 1
}
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
updated=0
apt_install() {
  can_install || { echo "   (not root: install $* yourself, or run bash .ci/run as root)"; return 1; }
  if [ "$updated" = 0 ]; then apt-get update -qq || true; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

need=()
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)  # IMAP tests
command -v chromium >/dev/null || need+=(chromium)  # browser tests (Playwright drives it)
fc-list 2>/dev/null | grep -qi "emoji" || need+=(fonts-noto-color-emoji)  # emoji in names, in screenshots
if [ ${#need[@]} -gt 0 ]; then log "system packages: ${need[*]}"; apt_install "${need[@]}" || true; fi

if ! port_open 5432; then
  log "starting PostgreSQL"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_port postgresql 5432
fi
if ! port_open 6379; then
  log "starting Redis"
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
  command -v redis-server >/dev/null && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port redis 6379
fi
if ! port_open 5672; then
  log "starting RabbitMQ"
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  command -v rabbitmq-server >/dev/null && rabbitmq-server -detached
  wait_port rabbitmq 5672
fi
AXE_DIR="${TRKV_AXE_DIR:-$HOME/.cache/trkv-axe}"
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null; then
  log "axe-core (accessibility checks) into $AXE_DIR"
  npm install --silent --prefix "$AXE_DIR" axe-core@4 >/dev/null 2>&1 || echo "   npm could not install axe-core"
fi
exit 0
