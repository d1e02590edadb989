#!/bin/bash
# Companion of `chrt -r 5 python bench/soak.py` on a shared machine (see bench/soak.py): gives
# the soak database's PostgreSQL backends and the brokers the soak's real-time priority.
# PGPORT: the port of the PostgreSQL the soak uses (5432 by default).
while pgrep -f "bench/soak.py" >/dev/null; do
  for pid in $(psql -h 127.0.0.1 -p "${PGPORT:-5432}" -U postgres -Atc \
                 "select pid from pg_stat_activity where datname like 'trkv_soak%'" 2>/dev/null) \
             $(pgrep -f beam.smp) $(pgrep -x redis-server); do
    chrt -r -p 5 "$pid" >/dev/null 2>&1
  done
  sleep 5
done
