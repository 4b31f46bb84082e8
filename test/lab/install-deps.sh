#!/usr/bin/env bash
# Install the Debian packages the pgha lab needs, only those that are missing
# (idempotent: a machine that has them all is left untouched, no apt-get update).
# Needs root. Used by the demo, CI (.ci/run) and by hand.
set -euo pipefail

PACKAGES=(
  corosync pacemaker pacemaker-cli-utils crmsh   # the cluster stack
  pcs                                            # the lab's pcs-only hosts; cluster.pcs in the real-tool tests
  resource-agents resource-agents-paf            # ocf:heartbeat:pgsql, ocf:heartbeat:pgsqlms, Filesystem, ...
  postgresql-15
  openssh-server openssh-client                  # sshd in every host; ssh-keygen for the lab's keys
  iproute2                                       # ip netns, bridges, veths
  kmod                                           # modprobe: the Filesystem agent calls it
  iputils-ping                                   # ocf:pacemaker:ping (targets 10.117.1.1 and .2)
  iptables                                       # fault tests cut a host's links inside it (INPUT and OUTPUT)
  procps psmisc                                  # ps/pidof/fuser, used by agents and the systemctl stand-in
  util-linux e2fsprogs                           # unshare/nsenter/losetup, mkfs.ext4 (normally present)
  sudo openssl                                   # the hosts' become user (sudo, its password hash); become-sudo tests
)

[[ $(id -u) -eq 0 ]] || { echo "install-deps: must run as root (apt-get install)" >&2; exit 1; }

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all lab packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The postgresql package creates (and, where an init system runs, starts) a "main"
# cluster on this machine. The lab leaves it alone: each lab host has its own empty
# /var/lib/postgresql, /etc/postgresql and /run, and its own network namespace.
apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
# pcs's package enables pcsd and, where an init system runs and policy-rc.d allows it, starts it.
# Nothing here needs pcsd (pcs -f works on a CIB file): it stays off, on this machine and its lab hosts.
if [[ " ${missing[*]} " == *" pcs "* ]]; then
  invoke-rc.d pcsd stop >/dev/null 2>&1 || true
  invoke-rc.d pcsd-ruby stop >/dev/null 2>&1 || true
  systemctl --root=/ disable pcsd.service pcsd-ruby.service >/dev/null 2>&1 || true
fi
