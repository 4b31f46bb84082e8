#!/bin/bash
# PID 1 of a pgha lab host; started by lab.sh as
#   ip netns exec pgN unshare --mount --uts --pid --fork --mount-proc ... host-init.sh pgN
# so it already runs in the host's network, mount, UTS and PID namespaces (and /proc
# shows only this host's processes). It makes the host's private mounts, starts
# sshd, then stays alive as the reaper of the host's orphans: without a PID 1 the
# PID namespace (and so the host) would end, and daemons that double-fork
# (corosync, sshd, postgres) are re-parented to us when their parent exits.
set -euo pipefail

name=$1
LAB=/var/lib/pgha-lab
fs=$LAB/hosts/$name/fs

say() { echo "$(date '+%F %T') $name init: $*"; }

hostname "$name"

# The root namespace's named network namespaces (/run/netns/pg*) are copied into
# every new mount namespace; holding them here would keep other hosts' network
# namespaces alive after `ip netns del`. Drop our copy before /run is replaced.
umount -l /run/netns 2>/dev/null || true

# Private directories: the list is written by lab.sh (one path a line).
while read -r dir; do
  mount --bind "$fs$dir" "$dir"
done <"$LAB/private-dirs"

# /dev is the machine's devtmpfs (so every host sees the loop device behind
# /dev/pgha-shared), but /dev/shm must be the host's own: libqb (corosync and
# pacemaker IPC) keeps its ring buffers there. A tmpfs, mode 1777 as on a real
# host, or libqb fails with "Invalid IPC credentials".
mount -t tmpfs -o mode=1777,nosuid,nodev,size=512m tmpfs /dev/shm

# Its own terminals too (a new devpts instance; /dev/ptmx follows /dev/pts).
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts

mount --bind "$LAB/hosts/$name/hosts" /etc/hosts
mount --bind "$LAB/hosts/$name/hostname" /etc/hostname
# Its own accounts and sudoers: the become user (see lab.sh make_become_user) exists only in the hosts.
mount --bind "$LAB/hosts/$name/passwd" /etc/passwd
mount --bind "$LAB/hosts/$name/shadow" /etc/shadow
mount --bind "$LAB/hosts/$name/sudoers.d" /etc/sudoers.d
# Workaround for the crm_attribute "-v -INFINITY" defect, see lab.sh.
mount --bind "$LAB/ocf-shellfuncs" /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs
mount -o remount,bind,ro /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs

# A host made without crmsh (lab.sh without-crmsh) stays so across a boot.
if [[ -f $LAB/hosts/$name/without-crmsh ]]; then
  mount -t overlay pgha-no-crmsh -o "lowerdir=$LAB/no-crmsh:/usr/sbin" /usr/sbin
fi

/usr/sbin/sshd   # daemonizes; its listener is re-parented to us
say "up (sshd started)"

# Stay alive and reap: while bash waits for its `sleep`, it collects every child
# that exits (waitpid(-1)), including orphans re-parented to PID 1.
# TERM (from lab.sh down) ends the host: when PID 1 exits, the kernel kills the rest.
trap 'say "TERM: shutting down"; exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $! || true
done
