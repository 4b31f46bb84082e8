#!/usr/bin/env bash
# pgha lab: N real test hosts (pg1..pgN) on this machine, for e2e tests and the demo.
#
#   lab.sh up [--nodes N]    N from 2 to 5, default 2 (cleans up leftovers first)
#   lab.sh down              ends the lab's processes, removes what `up` created
#   lab.sh status            one line per host
#   lab.sh exec pgN CMD...   run CMD inside a host (all of its namespaces)
#   lab.sh poweroff pgN      pull the plug: links dark, every process killed at once; the host stays down
#   lab.sh boot pgN          power a host back on: fresh /run, its network, sshd only (no cluster daemons)
#                            (power actions on one host, these and the BMC's, run one at a time)
#   lab.sh without-crmsh pgN a host with pcs and no crmsh, as RHEL 8/9 ship them (kept across a boot)
#   lab.sh with-crmsh pgN    crmsh back on that host
#
# `up` also starts the lab's "BMC" (`lab.sh bmc-serve`, a root-namespace daemon) and installs the fence
# agent /usr/sbin/fence_pgha_lab, which asks the BMC to power-cycle a host through $LAB/bmc: a directory
# the hosts see but not on their cluster links, so fencing works while a target's links are cut.
#
# A "host" is a set of Linux namespaces, not a VM: its own network namespace (two
# links, eth1 and eth2, on two private bridges, like a cluster's redundant
# heartbeat), and its own mount, UTS and PID namespaces, so that its hostname is
# its node name, `pidof`/`ps` see only its processes, and everything a daemon
# writes (/etc/corosync, /var/lib/pacemaker, /run, ...) is a private bind mount
# of /var/lib/pgha-lab/hosts/<name>/fs/<path>. The binaries (/usr) are shared.
# pgha reaches these hosts exactly as it reaches real ones: over SSH, by address.
#
# Rules this script keeps, because it runs as root next to other work:
#   - traffic stays on 10.117.1.0/24, 10.117.2.0/24 and loopback: no forwarding,
#     no NAT, no default route in the hosts, IPv6 off on the lab's links;
#   - `down` only ends processes it finds through the hosts' namespaces (by pid),
#     never by name (no pkill/killall);
#   - nothing on the root namespace is stopped or changed, apart from the lab's
#     own bridges, loop device, /dev/pgha-shared, state dir, BMC daemon and fence agent.
set -euo pipefail

LAB=/var/lib/pgha-lab
HOSTS_DIR=$LAB/hosts
KEY=$LAB/id_ed25519
KNOWN_HOSTS=$LAB/known_hosts
INVENTORY=$LAB/inventory.yml
SHARED_IMG=$LAB/shared.img
SHARED_LINK=/dev/pgha-shared
OCF_FUNCS=/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs
OCF_FUNCS_FIXED=$LAB/ocf-shellfuncs
BIN_DIR=$LAB/bin             # copies of host-init.sh and systemctl (see `up`)
MOUNTPOINTS_MADE=$LAB/mountpoints-created
BMC=$LAB/bmc                 # the BMC's request (req/) and answer (res/) directories
BMC_PID=$LAB/bmc.pid
FENCE_AGENT=/usr/sbin/fence_pgha_lab   # Pacemaker runs fence agents from /usr/sbin only (shared by the hosts)
NO_CRMSH=$LAB/no-crmsh       # an overlayfs layer that whites out /usr/sbin/crm (see without-crmsh)
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

BRIDGES=(pghabr1 pghabr2)
NETS=(10.117.1 10.117.2)     # eth1 on pghabr1, eth2 on pghabr2
MAX_NODES=5

# Directories that each host owns privately (bind mounts of its fs/ tree, done by
# host-init.sh inside the host's mount namespace). host-init.sh reads this list
# from $LAB/private-dirs, so the two scripts cannot disagree.
PRIVATE_DIRS=(
  /run /tmp /var/tmp /var/log
  /etc/corosync /etc/ssh /etc/postgresql
  /var/lib/corosync /var/lib/pacemaker /var/lib/heartbeat
  /var/lib/postgresql /var/lib/pgsql /var/lib/systemd /var/lib/pgha
  /root /usr/local/sbin /home
)
# The pgsql agent's default tmpdir (lock file, rep_mode.conf) is /var/lib/pgsql/tmp:
# on a shared directory pg2 would see pg1's PGSQL.lock. Debian has no /var/lib/pgsql,
# so `up` creates an empty mount point for it (and `down` removes it again).

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root: the lab creates network namespaces, bridges, \
bind mounts and a loop device, and runs sshd/corosync/pacemaker as root inside its hosts"
}

host_names() { # names of hosts that exist now (dirs or namespaces), for down/status
  {
    [[ -d $HOSTS_DIR ]] && ls -1 "$HOSTS_DIR"
    ip netns list 2>/dev/null | awk '{print $1}'
  } | grep -E '^pg[1-5]$' | sort -u || true
}

init_pid_of() { # the host's PID 1 (as seen from the root namespace), if it is alive and ours
  local name=$1 pid
  pid=$(cat "$HOSTS_DIR/$name/init.pid" 2>/dev/null) || return 1
  # A recorded pid may be stale (killed run, reboot): trust it only if that process
  # is still our init for this host.
  tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline | grep -q "host-init.sh $name " || return 1
  echo "$pid"
}

host_exec() { # run a command inside a host, with a clean environment like an ssh session
  local name=$1; shift
  local pid
  pid=$(init_pid_of "$name") || die "host $name is not running"
  nsenter -t "$pid" -a -- env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    sh -c 'cd /root && exec "$@"' sh "$@"
}

# ---------------------------------------------------------------- down

alive() { # the pids among $@ that still run (a zombie has ended; only its parent can
  # collect it, and hosts outlive `lab up`, so their parent is the machine's PID 1)
  local p s
  for p in "$@"; do
    read -r s 2>/dev/null </proc/"$p"/stat || continue
    s=${s##*) }
    [[ ${s%% *} == Z ]] || echo "$p"
  done
  true
}

wait_gone() { # wait_gone TENTHS PID... ; true when all are gone
  local tenths=$1; shift
  local i
  for ((i = 0; i < tenths * 2; i++)); do
    [[ -z $(alive "$@") ]] && return 0
    sleep 0.05
  done
  [[ -z $(alive "$@") ]]
}

stop_host() { # stop_host NAME [plug]: a clean stop (TERM first), or pulling the plug
  local name=$1 how=${2-clean} init keep pids others
  init=$(init_pid_of "$name" || true)
  # Every process of the host is in its network namespace: that is how we find
  # them, and the only processes we ever signal.
  pids=$(ip netns pids "$name" 2>/dev/null || true)
  if [[ $how == plug && -n $pids ]]; then
    # The links go dark first, so that nothing the killed processes' sockets send as they close
    # (FIN, RST) reaches the peers: they must find out the way they would after a power cut.
    ip -n "$name" link set eth1 down 2>/dev/null || true
    ip -n "$name" link set eth2 down 2>/dev/null || true
    kill -KILL $pids 2>/dev/null || true
    wait_gone 50 $pids || die "could not end the processes of $name: $(alive $pids | tr '\n' ' ')"
  elif [[ -n $pids || -n $init ]]; then
    # First TERM the daemons, so pacemaker/corosync/postgres can exit cleanly. Spare
    # the init and its parent (unshare --kill-child: its death would SIGKILL the init).
    keep=none
    [[ -n $init ]] && keep="$init|$(awk '{print $4}' /proc/"$init"/stat 2>/dev/null || echo none)"
    others=$(grep -vxE "$keep" <<<"$pids" || true)
    if [[ -n $others ]]; then
      kill -TERM $others 2>/dev/null || true
      wait_gone 50 $others || true
    fi
    # Then SIGKILL the init: when a PID namespace's PID 1 dies, the kernel kills
    # everything left in it. (Not TERM: its trap can race with the `sleep` it
    # restarts when the first round ended the old one.)
    [[ -n $init ]] && kill -KILL "$init" 2>/dev/null || true
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    if [[ -n $pids ]] && ! wait_gone 20 $pids; then
      pids=$(ip netns pids "$name" 2>/dev/null || true)
      [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
      wait_gone 50 $pids || die "could not end the processes of $name: $(alive $pids | tr '\n' ' ')"
    fi
  fi
  if ip netns list | awk '{print $1}' | grep -qx "$name"; then
    ip netns del "$name"
  fi
  # The kernel destroys a deleted namespace's veths asynchronously: wait for the host-side ends (and
  # remove any a killed run left), or an `up` right after this `down` fails with "File exists".
  local i _
  for i in "${!NETS[@]}"; do
    for _ in $(seq 50); do ip link show "$name-l$((i + 1))" &>/dev/null || break; sleep 0.1; done
    if ip link show "$name-l$((i + 1))" &>/dev/null; then ip link del "$name-l$((i + 1))"; fi
  done
}

stop_bmc() { # by its recorded pid, and only if that process is our BMC
  local pid
  pid=$(cat "$BMC_PID" 2>/dev/null) || return 0
  if tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline | grep -q "lab.sh bmc-serve"; then
    kill -TERM "$pid" 2>/dev/null || true
    # bash runs the trap only once a power action it waits for ends: then KILL it; the action, a
    # process of its own, finishes under the host's lock, which cmd_down takes next.
    wait_gone 50 "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait_gone 50 "$pid" || die "could not end the BMC daemon (pid $pid)"
  fi
  rm -f "$BMC_PID"
}

cmd_down() {
  require_root
  local name mp loop
  stop_bmc   # first: it must not boot a host while we stop them
  for name in $(host_names); do
    [[ ! -d $HOSTS_DIR/$name ]] || lock_host "$name"   # after any power action in progress
    stop_host "$name"
  done
  rm -rf --one-file-system "$BMC" "$NO_CRMSH"
  if grep -qs '^# fence_pgha_lab: the pgha lab' "$FENCE_AGENT"; then rm -f "$FENCE_AGENT"; fi
  # Host-side veths vanish with their namespaces; the bridges are ours to delete.
  for br in "${BRIDGES[@]}"; do
    ip link show "$br" &>/dev/null && ip link del "$br"
  done
  # Nothing of the lab should be mounted in the root namespace (the hosts' mounts
  # lived in their own mount namespaces, gone now); unmount anything that is.
  findmnt -rn -o TARGET | grep -E "^$LAB/" | sort -r | while read -r mp; do umount -l "$mp"; done || true
  if [[ -L $SHARED_LINK ]]; then rm -f "$SHARED_LINK"; fi
  if [[ -e $SHARED_IMG ]]; then
    for loop in $(losetup -j "$SHARED_IMG" -O NAME -n 2>/dev/null); do losetup -d "$loop"; done
  fi
  # --one-file-system: if anything were still mounted below, refuse to descend into it.
  [[ -d $HOSTS_DIR ]] && rm -rf --one-file-system "$HOSTS_DIR"
  rm -f "$INVENTORY" "$KNOWN_HOSTS" "$LAB/nodes" "$LAB/private-dirs" "$BECOME_PASSWORD"
  if [[ -f $MOUNTPOINTS_MADE ]]; then
    while read -r mp; do rmdir "$mp" 2>/dev/null || true; done <"$MOUNTPOINTS_MADE"
    rm -f "$MOUNTPOINTS_MADE"
  fi
  return 0
}

# ---------------------------------------------------------------- up

check_tools() {
  local missing=() t
  for t in ip nsenter unshare losetup mkfs.ext4 modprobe ssh-keygen /usr/sbin/sshd \
           corosync pacemakerd crm_attribute crm pg_ctlcluster pidof ps sudo openssl; do
    command -v "$t" &>/dev/null || missing+=("$t")
  done
  [[ -f $OCF_FUNCS ]] || missing+=("$OCF_FUNCS")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (run test/lab/install-deps.sh)"
}

# Debian 12 defect (Pacemaker 2.1.5): crm_attribute's option parser takes the value
# in `-v -INFINITY` for an option and exits 105, while `--update=-INFINITY` works.
# resource-agents' ocf_promotion_score() passes its arguments straight through
# (`crm_attribute -p $@`), and the pgsql agent calls `ocf_promotion_score -v -INFINITY`
# on start, which then fails until the start times out. On the lab hosts only, we
# bind-mount a copy of ocf-shellfuncs whose ocf_promotion_score rewrites `-v VALUE`
# to `--update=VALUE` (same meaning, unambiguous to the parser). Nothing that pgha
# renders or runs changes; pgha's preflight detects the defect on real hosts.
make_fixed_ocf_shellfuncs() {
  local call='${HA_SBIN_DIR}/crm_attribute -p $@'
  [[ $(grep -cF "$call" "$OCF_FUNCS") == 1 ]] ||
    die "$OCF_FUNCS: expected exactly one line with '$call' to patch for the crm_attribute -v defect; \
resource-agents changed: review the workaround in $0"
  # 1. route the call through a helper; 2. define the helper just before ocf_promotion_score().
  # The helper is POSIX sh: ocf-shellfuncs is also sourced by dash scripts.
  sed -e 's|\${HA_SBIN_DIR}/crm_attribute -p \$@|__pgha_lab_crm_attribute_p $@|' \
      -e '/^ocf_promotion_score() {/i\
# pgha lab workaround (Debian 12, Pacemaker 2.1.5): crm_attribute misreads\
# "-v -INFINITY" as options; pass values as --update=VALUE instead.\
__pgha_lab_crm_attribute_p() {\
	__pgha_n=$#\
	while [ "$__pgha_n" -gt 0 ]; do\
		__pgha_a=$1; shift; __pgha_n=$((__pgha_n - 1))\
		if [ "$__pgha_a" = "-v" ] && [ "$__pgha_n" -gt 0 ]; then\
			__pgha_a="--update=$1"; shift; __pgha_n=$((__pgha_n - 1))\
		fi\
		set -- "$@" "$__pgha_a"\
	done\
	${HA_SBIN_DIR}/crm_attribute -p "$@"\
}\
' "$OCF_FUNCS" >"$OCF_FUNCS_FIXED.tmp"
  grep -q '__pgha_lab_crm_attribute_p \$@' "$OCF_FUNCS_FIXED.tmp" &&
    grep -q '^__pgha_lab_crm_attribute_p() {' "$OCF_FUNCS_FIXED.tmp" ||
    die "patching $OCF_FUNCS failed (the sed did not apply)"
  sh -n "$OCF_FUNCS_FIXED.tmp" || die "patched ocf-shellfuncs is not valid sh"
  chmod 644 "$OCF_FUNCS_FIXED.tmp"
  mv "$OCF_FUNCS_FIXED.tmp" "$OCF_FUNCS_FIXED"
}

make_bridges() {
  local i br
  for i in 0 1; do
    br=${BRIDGES[$i]}
    # A fixed MAC: a bridge otherwise takes its lowest port's, so a host powered off or booted
    # would change the gateways' MAC under the other hosts, and their pings fail until ARP notices.
    ip link add "$br" address "02:00:00:11:70:0$((i + 1))" type bridge forward_delay 0 stp_state 0
    # No IPv6 on the lab's links: no router solicitations, no MLD, nothing but the /24s.
    sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" 2>/dev/null || true
    ip addr add "${NETS[$i]}.1/24" dev "$br"
    # The service LAN has two "gateways" for ocf:pacemaker:ping, so a test can lose one of them.
    ((i != 0)) || ip addr add "${NETS[$i]}.2/24" dev "$br"
    ip link set "$br" up
  done
}

make_shared_storage() {
  local loop
  # A fresh, empty disk on every `up`: like the hosts, the shared disk must not remember an earlier run.
  rm -f "$SHARED_IMG"
  truncate -s 256M "$SHARED_IMG"
  mkfs.ext4 -q -L pgha-shared "$SHARED_IMG"
  loop=$(losetup --find --show "$SHARED_IMG")
  ln -sfn "$loop" "$SHARED_LINK"   # /dev is shared by all hosts
}

copy_dir_layout() { # copy_dir_layout DST DIR...: DIRs' directories (two levels, no files), owners and modes kept
  local dst=$1; shift
  # One find and one tar pair instead of a stat/install per directory: forks are
  # the main cost of `up`.
  (cd / && find "${@#/}" -maxdepth 2 -type d -print0) |
    tar -C / --null --no-recursion -T - -cf - | tar -C "$dst" -xpf -
}

addr_of() { echo "${NETS[$2]}.$((10 + $1))"; } # addr_of INDEX LINK -> 10.117.(LINK+1).1INDEX

prepare_host() {
  local name=$1 idx=$2 nodes=$3
  local h=$HOSTS_DIR/$name fs=$HOSTS_DIR/$name/fs a1 a2 i
  a1=$(addr_of "$idx" 0); a2=$(addr_of "$idx" 1)
  mkdir -p "$fs"

  # A fresh host's state: packaged directory layout (owners matter: pacemaker's
  # daemons run as hacluster, postgres as postgres), but none of the root
  # namespace's data (e.g. Debian's auto-created "main" PostgreSQL cluster).
  copy_dir_layout "$fs" /var/lib/pacemaker /var/lib/corosync /var/lib/heartbeat /var/log
  install -d -o postgres -g postgres -m 755 "$fs/var/lib/postgresql" "$fs/etc/postgresql" "$fs/var/lib/pgsql"
  install -d -m 755 "$fs/var/lib/systemd"
  install -d -m 700 "$fs/var/lib/pgha"            # pgha's own state on the host (stamps, applied copies)
  install -d -m 1777 "$fs/tmp" "$fs/var/tmp"     # libqb IPC needs a sticky, world-writable /tmp
  install -d -m 755 "$fs/usr/local/sbin"
  make_run_dir "$fs"
  cp -a /etc/corosync "$fs/etc/corosync"          # Debian's stock config, like a new host

  # sshd: root by key only, listening on this host's two addresses, own host key.
  install -d -m 755 "$fs/etc/ssh"
  cp -a /etc/ssh/ssh_config /etc/ssh/ssh_config.d /etc/ssh/moduli "$fs/etc/ssh/"
  ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$fs/etc/ssh/ssh_host_ed25519_key"
  cat >"$fs/etc/ssh/sshd_config" <<EOF
# pgha lab host $name (written by test/lab/lab.sh)
ListenAddress $a1
ListenAddress $a2
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
PrintMotd no
AcceptEnv LANG LC_*
MaxStartups 50:30:100
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  install -d -m 700 "$fs/root" "$fs/root/.ssh"
  install -m 600 "$KEY.pub" "$fs/root/.ssh/authorized_keys"

  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost ip6-loopback"
    for ((i = 1; i <= nodes; i++)); do echo "$(addr_of "$i" 0) pg$i"; done
  } >"$h/hosts"
  echo "$name" >"$h/hostname"
  install -m 755 "$BIN_DIR/systemctl" "$fs/usr/local/sbin/systemctl"
  make_become_user "$name" "$idx"

  make_host_net "$name" "$idx"
}

# The become user (issue 17): pgadmin logs in with the lab's key and reaches root through Debian's sudo. On pg1
# its sudoers rule asks for the password (in $BECOME_PASSWORD, new at each `up`), on the other hosts it is
# NOPASSWD. The accounts and sudoers are each host's own files (host-init.sh bind-mounts them over /etc/passwd,
# /etc/shadow and /etc/sudoers.d): the machine's own are read, never changed.
BECOME_USER=pgadmin
BECOME_UID=4117
BECOME_PASSWORD=$LAB/become-password

make_become_user() { # make_become_user NAME INDEX
  local name=$1 idx=$2 h=$HOSTS_DIR/$1 fs=$HOSTS_DIR/$1/fs rule home=/home/$BECOME_USER
  cp -p /etc/passwd "$h/passwd"
  cp -p /etc/shadow "$h/shadow"
  echo "$BECOME_USER:x:$BECOME_UID:100:pgha lab admin:$home:/bin/bash" >>"$h/passwd"
  echo "$BECOME_USER:$(openssl passwd -6 -stdin <"$BECOME_PASSWORD"):$((EPOCHSECONDS / 86400)):0:99999:7:::" >>"$h/shadow"
  install -d -m 755 "$fs/home"
  install -d -o "$BECOME_UID" -g 100 -m 700 "$fs$home" "$fs$home/.ssh"
  install -o "$BECOME_UID" -g 100 -m 600 "$KEY.pub" "$fs$home/.ssh/authorized_keys"
  install -d -m 755 "$h/sudoers.d"
  if ((idx == 1)); then rule="ALL=(ALL:ALL) ALL"; else rule="ALL=(ALL:ALL) NOPASSWD: ALL"; fi
  echo "$BECOME_USER $rule" >"$h/sudoers.d/pgha-lab"
  chmod 440 "$h/sudoers.d/pgha-lab"
  visudo -cqf "$h/sudoers.d/pgha-lab" || die "$name: the sudoers rule for $BECOME_USER is not valid"
}

make_run_dir() { # a host's /run as it is at boot (a tmpfs on real hosts)
  local fs=$1
  install -d -m 755 "$fs/run" "$fs/run/sshd" "$fs/run/resource-agents"
  install -d -m 1777 "$fs/run/lock"
  install -d -o postgres -g postgres -m 2775 "$fs/run/postgresql"
}

make_host_net() { # make_host_net NAME INDEX: eth1/eth2 inside, veth peers on the bridges outside
  local name=$1 idx=$2 i
  ip netns add "$name"
  for i in 0 1; do
    # A fixed MAC per host and link, as a server's NIC keeps its MAC across a reboot: with a new one,
    # the others' ARP caches point at the old one and a booted host is unreachable for up to a minute.
    ip link add "$name-l$((i + 1))" type veth peer name "eth$((i + 1))" \
      address "02:00:00:11:7$((i + 1)):0$idx" netns "$name"
    sysctl -qw "net.ipv6.conf.$name-l$((i + 1)).disable_ipv6=1" 2>/dev/null || true
    ip link set "$name-l$((i + 1))" master "${BRIDGES[$i]}" up
    ip netns exec "$name" sysctl -qw "net.ipv6.conf.eth$((i + 1)).disable_ipv6=1" 2>/dev/null || true
    ip -n "$name" addr add "$(addr_of "$idx" "$i")/24" dev "eth$((i + 1))"
    ip -n "$name" link set "eth$((i + 1))" up
  done
  ip -n "$name" link set lo up
}

start_host() { # launch the host's PID 1 in its own mount/UTS/PID namespaces
  local name=$1 h=$HOSTS_DIR/$1 pid init i
  # setsid + all fds redirected: the host must outlive this script and must not hold
  # the caller's stdout open (vitest's global setup waits for EOF on it).
  # `ip netns exec` and setsid exec, so $! is unshare's pid; unshare forks the init.
  # --kill-child: if unshare is killed, its child (the init) is killed too.
  # No other descriptor of the caller goes along: a host that kept, say, a `flock` lock file open would
  # hold that lock for as long as it runs.
  (
    for fd in /proc/"$BASHPID"/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done 2>/dev/null
    exec setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      ip netns exec "$name" \
      unshare --mount --uts --pid --fork --mount-proc --propagation private --kill-child \
      /bin/bash "$BIN_DIR/host-init.sh" "$name"
  ) </dev/null >>"$h/init.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 100; i++)); do
    init=$(cat /proc/"$pid"/task/"$pid"/children 2>/dev/null || true)
    [[ -n ${init// /} ]] && break
    sleep 0.05
  done
  init=${init// /}
  [[ -n $init ]] || die "$name: init did not start (see $h/init.log)"
  echo "$init" >"$h/init.pid"
}

wait_for_sshd() {
  local name=$1 idx=$2 a i
  for a in "$(addr_of "$idx" 0)" "$(addr_of "$idx" 1)"; do
    for ((i = 0; i < 100; i++)); do
      timeout 1 bash -c "exec 3<>/dev/tcp/$a/22" 2>/dev/null && continue 2
      [[ -n $(init_pid_of "$name" || true) ]] || die "$name: init exited: $(tail -n 5 "$HOSTS_DIR/$name/init.log")"
      sleep 0.1
    done
    die "$name: sshd not reachable on $a:22 (see $HOSTS_DIR/$name/init.log)"
  done
}

write_inventory() {
  local nodes=$1 i
  {
    echo "all:"
    echo "  children:"
    echo "    pgsql:"
    echo "      hosts:"
    for ((i = 1; i <= nodes; i++)); do echo "        pg$i: { ansible_host: $(addr_of "$i" 0) }"; done
    echo "  vars:"
    echo "    ansible_user: root"
    echo "    ansible_ssh_private_key_file: $KEY"
    echo "    ansible_ssh_common_args: \"-o UserKnownHostsFile=$KNOWN_HOSTS\""
  } >"$INVENTORY"
}

write_known_hosts() {
  local nodes=$1 i
  for ((i = 1; i <= nodes; i++)); do
    echo "$(addr_of "$i" 0),$(addr_of "$i" 1),pg$i $(cut -d' ' -f1,2 "$HOSTS_DIR/pg$i/fs/etc/ssh/ssh_host_ed25519_key.pub")"
  done >"$KNOWN_HOSTS"
}

cmd_up() {
  local nodes=2 i d
  while (($#)); do
    case $1 in
      --nodes) nodes=${2-}; shift 2 || die "--nodes needs a number";;
      --nodes=*) nodes=${1#--nodes=}; shift;;
      *) die "up: unknown argument '$1' (usage: lab.sh up [--nodes N])";;
    esac
  done
  [[ $nodes =~ ^[0-9]+$ ]] && ((nodes >= 2 && nodes <= MAX_NODES)) || die "--nodes must be 2..$MAX_NODES"
  require_root
  check_tools
  local t0=$SECONDS
  cmd_down   # leftovers of an earlier (maybe killed) run

  install -d -m 755 "$LAB" "$HOSTS_DIR" "$BIN_DIR"
  [[ -f $KEY ]] || ssh-keygen -q -t ed25519 -N '' -C pgha-lab -f "$KEY"
  # Hosts run copies: bash reads scripts as it goes, so editing the repo's copy must
  # not change a running init.
  install -m 755 "$SRC_DIR/host-init.sh" "$SRC_DIR/systemctl" "$SRC_DIR/lab.sh" "$BIN_DIR/"
  install -m 755 "$SRC_DIR/fence_pgha_lab" "$FENCE_AGENT"
  make_fixed_ocf_shellfuncs
  printf '%s\n' "${PRIVATE_DIRS[@]}" >"$LAB/private-dirs"
  for d in "${PRIVATE_DIRS[@]}"; do
    if [[ ! -d $d ]]; then mkdir -p "$d"; echo "$d" >>"$MOUNTPOINTS_MADE"; fi
  done

  ! getent passwd "$BECOME_USER" >/dev/null && ! getent passwd "$BECOME_UID" >/dev/null || die "user $BECOME_USER or uid $BECOME_UID exists on this machine: the lab's become user needs both free"
  (umask 077 && openssl rand -base64 18 >"$BECOME_PASSWORD")

  make_bridges
  make_shared_storage
  for ((i = 1; i <= nodes; i++)); do prepare_host "pg$i" "$i" "$nodes"; done
  for ((i = 1; i <= nodes; i++)); do start_host "pg$i"; done
  for ((i = 1; i <= nodes; i++)); do wait_for_sshd "pg$i" "$i"; done
  write_known_hosts "$nodes"
  write_inventory "$nodes"
  echo "$nodes" >"$LAB/nodes"
  start_bmc
  log "up: $nodes hosts in $((SECONDS - t0)) s; inventory $INVENTORY, shared disk $SHARED_LINK -> $(readlink "$SHARED_LINK")"
  for ((i = 1; i <= nodes; i++)); do
    log "  pg$i  $(addr_of "$i" 0) / $(addr_of "$i" 1)   ssh -i $KEY -o UserKnownHostsFile=$KNOWN_HOSTS root@$(addr_of "$i" 0)"
  done
}

# ---------------------------------------------------------------- status / exec

cmd_status() {
  require_root
  local names name pid sshd coro pcmk idx
  names=$(host_names)
  if [[ -z $names ]]; then echo "lab is down"; return 0; fi
  for name in $names; do
    idx=${name#pg}
    if pid=$(init_pid_of "$name"); then
      if timeout 1 bash -c "exec 3<>/dev/tcp/$(addr_of "$idx" 0)/22" 2>/dev/null; then sshd=up; else sshd=down; fi
      coro=$(host_exec "$name" /usr/local/sbin/systemctl is-active corosync || true)
      pcmk=$(host_exec "$name" /usr/local/sbin/systemctl is-active pacemaker || true)
      printf '%-4s init %-7s %-15s sshd %-4s corosync %-8s pacemaker %s\n' \
        "$name" "$pid" "$(addr_of "$idx" 0)" "$sshd" "$coro" "$pcmk"
    else
      printf '%-4s not running (leftovers; run lab.sh down)\n' "$name"
    fi
  done
  [[ -L $SHARED_LINK ]] && echo "shared disk: $SHARED_LINK -> $(readlink "$SHARED_LINK")"
  return 0
}

# ---------------------------------------------------------------- poweroff / boot

host_arg() { # the one host NAME a command takes, which `up` created
  (($# == 1)) && [[ $1 =~ ^pg[1-5]$ ]] || die "usage: lab.sh ${CMD} pgN"
  [[ -d $HOSTS_DIR/$1 ]] || die "there is no host $1 (lab.sh up first)"
}

# One power action at a time per host. Without it, a fence's reboot that came while a `poweroff` still
# waited for the host's veths to go booted into its leftovers ("RTNETLINK answers: File exists"), and the
# netns that failed boot left made every retry fail ("Cannot create namespace file"). The lock is a file
# of the host's state dir; start_host passes no descriptor on, so a booted host never holds it.
lock_host() { # lock_host NAME: hold NAME's power lock until this process exits
  local name=$1 lock=$HOSTS_DIR/$1/power.lock fd
  exec {fd}>>"$lock" || die "cannot open $lock"
  flock -w 120 "$fd" || die "$name: another power action has held $lock for 120 s"
  # The lab may have gone down (or down and up again) while we waited: then this is not its host any more.
  [[ $lock -ef /dev/fd/$fd ]] || die "host $name went away while waiting for $lock"
}

cmd_poweroff() {
  require_root; host_arg "$@"
  lock_host "$1"
  init_pid_of "$1" >/dev/null || die "host $1 is not running"
  stop_host "$1" plug
}

# What a host wrote to its fs/ tree is its disk and survives; its memory (processes, sockets, /run,
# /dev/shm, the kernel's network state) does not. Only sshd starts, as on a node whose cluster stack
# is not enabled at boot: the manuals' recovery starts Pacemaker by hand.
cmd_boot() {
  require_root; host_arg "$@"
  lock_host "$1"
  ! init_pid_of "$1" >/dev/null || die "host $1 is running"
  power_on "$1"
}

power_on() { # power_on NAME: boot a host that is off (its power lock held)
  local name=$1 fs=$HOSTS_DIR/$1/fs
  ip link show "${BRIDGES[0]}" &>/dev/null || die "the lab's bridges are gone (lab.sh up first)"
  # What an unfinished power-off (or boot) left of the host's network: its netns, an empty netns file,
  # host-side veths. stop_host removes them as it does after a poweroff (no processes: nothing to end).
  stop_host "$name" plug
  rm -rf --one-file-system "$fs/run"
  make_run_dir "$fs"
  make_host_net "$name" "${name#pg}"
  start_host "$name"
  wait_for_sshd "$name" "${name#pg}"
  log "booted $name"
}

# The BMC's power actions (`lab.sh bmc-power ACTION pgN`), each decided on the host's state found under
# its lock: `off` of a host that is off is done, `reboot` of one (a test's poweroff came first) boots it.
cmd_bmc_power() {
  require_root
  local action=${1-}; shift || true
  host_arg "$@"
  lock_host "$1"
  if init_pid_of "$1" >/dev/null; then
    case $action in
      on) ;;
      off) stop_host "$1" plug;;
      reboot) stop_host "$1" plug; sleep 1; power_on "$1";;
      *) die "bmc-power: unknown action '$action'";;
    esac
  else
    case $action in
      off) ;;
      on|reboot) power_on "$1";;
      *) die "bmc-power: unknown action '$action'";;
    esac
  fi
}

# ---------------------------------------------------------------- without crmsh

# /usr is shared, so crm cannot be removed for one host: inside the host's mount namespace /usr/sbin
# becomes a read-only overlay of itself under a layer whose whiteout hides crm (as if it were never
# installed: `command -v crm` fails in sh and bash). host-init.sh mounts it again after a boot while the
# host's marker file is there. The machine and the other hosts keep crm.
hides_crm() { # hides_crm INIT_PID: the host's mount namespace has the overlay (read from outside it)
  grep -qs '^pgha-no-crmsh /usr/sbin overlay ' "/proc/$1/mounts"
}

cmd_without_crmsh() {
  require_root; host_arg "$@"
  local name=$1 pid
  pid=$(init_pid_of "$name") || die "host $name is not running"
  install -d -m 755 "$NO_CRMSH"
  [[ -c $NO_CRMSH/crm ]] || mknod -m 000 "$NO_CRMSH/crm" c 0 0
  touch "$HOSTS_DIR/$name/without-crmsh"
  if ! hides_crm "$pid"; then
    nsenter -t "$pid" -m -- mount -t overlay pgha-no-crmsh -o "lowerdir=$NO_CRMSH:/usr/sbin" /usr/sbin
  fi
  ! nsenter -t "$pid" -m -- sh -c 'command -v crm' >/dev/null || die "$name: crm is still there"
  log "$name has no crmsh (pcs: $(nsenter -t "$pid" -m -- sh -c 'command -v pcs' || echo none))"
}

cmd_with_crmsh() {
  require_root; host_arg "$@"
  local name=$1 pid
  rm -f "$HOSTS_DIR/$name/without-crmsh"
  pid=$(init_pid_of "$name") || return 0
  # -a: umount reads /proc/self/mountinfo, which only the host's PID namespace shows; -l: running
  # daemons (sshd) keep the overlay busy, new processes see /usr/sbin itself
  while hides_crm "$pid"; do nsenter -t "$pid" -a -- umount -l /usr/sbin; done
  log "$name has crmsh again"
}

# ---------------------------------------------------------------- the BMC

start_bmc() {
  install -d -m 700 "$BMC" "$BMC/req" "$BMC/res"
  # Detached like a host (setsid, no descriptor of the caller: a flock'd fd would hold the lab's lock),
  # running the copy in $BIN_DIR: bash reads a script as it goes.
  (
    for fd in /proc/"$BASHPID"/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done 2>/dev/null
    exec setsid /bin/bash "$BIN_DIR/lab.sh" bmc-serve </dev/null >"$LAB/bmc.log" 2>&1
  ) &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s $BMC_PID ]] && return 0; sleep 0.1; done
  die "the BMC daemon did not start (see $LAB/bmc.log)"
}

# bmc_do FROM ACTION TARGET: one request, its answer on stdout. Only the lab's own hosts, only these actions.
bmc_do() {
  local from=$1 action=$2 target=$3
  case $action in
    monitor) echo ok; return;;
    list) host_names; return;;
    status|on|off|reboot) ;;
    *) echo "error: unknown action '$action'"; return;;
  esac
  if ! [[ $target =~ ^pg[1-5]$ && -d $HOSTS_DIR/$target ]]; then echo "error: no lab host '$target'"; return; fi
  if [[ $action == status ]]; then init_pid_of "$target" >/dev/null && echo on || echo off; return; fi
  log "bmc: $from asks: $action $target"
  # In a process of its own: `set -e` must hold in it, and it would not in a subshell tested with ||
  /bin/bash "$BIN_DIR/lab.sh" bmc-power "$action" "$target" >&2 || { echo "error: $action $target failed"; return; }
  log "bmc: $action $target done"
  echo ok
}

cmd_bmc_serve() {
  require_root
  set +e   # a daemon: one failed request must not end it
  echo $$ >"$BMC_PID"
  trap 'log "bmc: TERM: stopping"; exit 0' TERM INT
  log "bmc: serving $BMC"
  local req id from action target rest
  while :; do
    for req in "$BMC"/req/*.req; do
      [[ -f $req ]] || continue
      id=${req##*/}; id=${id%.req}
      from=- action=- target=-
      read -r from action target rest <"$req" || true
      rm -f "$req"
      [[ $id =~ ^[A-Za-z0-9_-]{1,80}$ ]] || continue
      bmc_do "$from" "$action" "$target" >"$BMC/res/.$id" && mv "$BMC/res/.$id" "$BMC/res/$id"
    done
    sleep 0.2
  done
}

CMD=${1-}
case ${1-} in
  up) shift; cmd_up "$@";;
  poweroff) shift; cmd_poweroff "$@"; log "powered off $1";;
  boot) shift; cmd_boot "$@";;
  without-crmsh) shift; cmd_without_crmsh "$@";;
  with-crmsh) shift; cmd_with_crmsh "$@";;
  bmc-serve) shift; cmd_bmc_serve;;   # started by `up`
  bmc-power) shift; cmd_bmc_power "$@";;   # run by the BMC
  down) shift; cmd_down; log "down";;
  status) shift; cmd_status;;
  exec)
    shift; require_root
    (($# >= 2)) || die "usage: lab.sh exec pgN CMD..."
    host_exec "$@";;
  *) echo "usage: $0 up [--nodes N] | down | status | exec pgN CMD... | poweroff pgN | boot pgN | without-crmsh pgN | with-crmsh pgN" >&2; exit 2;;
esac
