#!/usr/bin/env bash
# The README's first command: a 2-node lab of real test hosts, and pgha building the Linux-HA Japan style
# cluster on it (ocf:heartbeat:pgsql, rep_mode=sync, vip-master/vip-rep, default_ping_set, STONITH).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/lab/install-deps.sh
npm run --silent build
bash test/lab/lab.sh up --nodes 2
# The spec reads the replication password from PGHA_REPL_PASSWORD. The demo makes one up and keeps it in a
# file only root reads, so that the commands it prints at the end work in a new shell too.
PASSWORD_FILE=/var/lib/pgha-lab/demo-repl-password
export PGHA_REPL_PASSWORD="${PGHA_REPL_PASSWORD:-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
(umask 077 && printf '%s\n' "$PGHA_REPL_PASSWORD" >"$PASSWORD_FILE")
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

Next steps (as root, from $(pwd)):
  - the password, in a new shell:  export PGHA_REPL_PASSWORD="\$(cat $PASSWORD_FILE)"
  - the cluster as pgha sees it:   node bin/pgha.js status ${args[*]}
  - the rendered files:            node bin/pgha.js render ${args[*]} -o out/
  - what differs from the spec:    node bin/pgha.js diff ${args[*]}
  - enter a lab host:              bash test/lab/lab.sh exec pg1 bash
  A failure and the way back (the operators' manuals, as pgha commands):
  - kill the primary's PostgreSQL: bash test/lab/lab.sh exec pg1 sh -c 'kill -9 \$(head -1 /var/lib/postgresql/15/pgha/postmaster.pid)'
  - watch pg2 take over:           bash test/lab/lab.sh exec pg2 crm_mon -1 -Af
  - what needs recovery:           node bin/pgha.js status ${args[*]}
  - bring pg1 back as a standby:   node bin/pgha.js recover ${args[*]} pg1
  - fail back to pg1:              node bin/pgha.js switchover ${args[*]} --to pg1
  - tear the lab down:             npm run lab:down
MSG
