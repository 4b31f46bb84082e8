#!/usr/bin/env bash
# The README's first command: a 2-node lab of real test hosts, and pgha building the Linux-HA Japan style
# cluster on it (ocf:heartbeat:pgsql, rep_mode=sync, vip-master/vip-rep, default_ping_set, STONITH).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/lab/install-deps.sh
npm run --silent build
bash test/lab/lab.sh up --nodes 2
# The spec reads the replication password from this variable; the demo makes up one.
export PGHA_REPL_PASSWORD="${PGHA_REPL_PASSWORD:-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
args=(-i inventories/sr-pgsql-2node/hosts.yml -s inventories/sr-pgsql-2node/cluster.yml)
node bin/pgha.js validate "${args[@]}"
node bin/pgha.js apply "${args[@]}"
echo
echo "A second run changes nothing:"
node bin/pgha.js apply "${args[@]}" | tail -1
echo
echo "crm_mon -Af on pg1:"
bash test/lab/lab.sh exec pg1 crm_mon -1 -Af
cat <<MSG

Next steps:
  - the cluster as pgha sees it:   node bin/pgha.js status ${args[*]}
  - the rendered files:            node bin/pgha.js render ${args[*]} -o out/
  - enter a lab host:              bash test/lab/lab.sh exec pg1 bash
  - try a failover:                bash test/lab/lab.sh exec pg1 sh -c 'kill -9 \$(head -1 /var/lib/postgresql/15/pgha/postmaster.pid)'
  - tear the lab down:             npm run lab:down
MSG
