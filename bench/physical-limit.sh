#!/usr/bin/env bash
# The physical limit of a no-op (issue 16): what any tool must at least do to learn that a cluster needs
# nothing. One OpenSSH connection per host (fresh: no ControlMaster), all hosts in parallel, one command
# each that hashes the managed files, reads their owner and mode, asks whether corosync and Pacemaker
# run, and digests the CIB. bench/run.mjs times it in the same run as pgha and reports pgha's ratio to it.
#
#   physical-limit.sh -k KEY -K KNOWN_HOSTS [-u USER] [-O OUTDIR] -f 'PATH...' HOST...
#
# -f: the managed files, space-separated (bench/run.mjs passes the same list pgha manages on each node).
# -O: keep each host's output in OUTDIR/HOST (the bench checks one run's output once); else discarded.
# Exits non-zero when any host's command failed.
set -euo pipefail

user=root key= known= files= outdir=
while getopts 'k:K:u:f:O:' o; do
  case $o in
    k) key=$OPTARG;;
    K) known=$OPTARG;;
    u) user=$OPTARG;;
    f) files=$OPTARG;;
    O) outdir=$OPTARG;;
    *) exit 64;;
  esac
done
shift $((OPTIND - 1))
[[ -n $key && -n $known && -n $files && $# -gt 0 ]] || { echo "usage: $0 -k KEY -K KNOWN_HOSTS [-u USER] [-O OUTDIR] -f 'PATH...' HOST..." >&2; exit 64; }

# Paths are the bench's own (from pgha's model); quoted for the remote shell all the same.
quoted=
for p in $files; do quoted+=" '${p//\'/\'\\\'\'}'"; done
remote="LC_ALL=C; sha256sum$quoted; stat -c '%U %G %a %n'$quoted; systemctl is-active corosync pacemaker; cibadmin -Q | sha256sum"

pids=()
for h in "$@"; do
  out=/dev/null
  [[ -z $outdir ]] || out=$outdir/$h
  ssh -T -i "$key" -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=15 "$user@$h" "$remote" >"$out" 2>&1 &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
