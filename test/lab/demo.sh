#!/usr/bin/env bash
# The README's first command: a 2-node lab and pgha run against it.
# Until `pgha apply` exists (issue 4) the demo validates and renders, and shows the lab hosts are real.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/lab/install-deps.sh
npm run --silent build
bash test/lab/lab.sh up --nodes 2
export PGHA_REPL_PASSWORD="${PGHA_REPL_PASSWORD:-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
ex=inventories/sr-pgsql-2node
node bin/pgha.js validate -i /var/lib/pgha-lab/inventory.yml -s "$ex/cluster.yml"
node bin/pgha.js render -i /var/lib/pgha-lab/inventory.yml -s "$ex/cluster.yml" -o out/demo
echo
echo "Rendered files:"; (cd out/demo && find . -type f | sort | sed 's/^/  /')
echo
bash test/lab/lab.sh status
cat <<MSG

Next steps:
  - read out/demo/cluster.crm and out/demo/pg1/etc/postgresql/15/pgha/postgresql.conf
  - enter a lab host:   bash test/lab/lab.sh exec pg1 bash
  - tear the lab down:  npm run lab:down
MSG
