#!/usr/bin/env bash
# Starts Chromium inside a CPU cgroup of its own, so that its whole process
# tree (browser, renderers, Web Workers, GPU/utility processes) shares one
# CPU quota: a real slow device, unlike CDP CPU throttling, which leaves Web
# Workers at full speed (DESIGN.md, "Emulating slower devices").
#
# Environment (set by e2e/cgroup.ts through Playwright's `env`, or by hand):
#   FEDRA_CGROUP           group name, e.g. fedra-w1 (required; [A-Za-z0-9_.-])
#   FEDRA_CGROUP_QUOTA_US  CPU time per period, µs; -1 or empty = unlimited
#                          (the group is then only used to account CPU time)
#   FEDRA_CGROUP_PERIOD_US period, µs (default 100000)
#   FEDRA_CHROMIUM_REAL    the real browser (default /usr/bin/chromium)
# The group is created if missing; whoever created it removes it (rmdir)
# once the browser has exited. Supports cgroup v1 (/sys/fs/cgroup/cpu, plus
# /sys/fs/cgroup/cpuacct for accounting when mounted apart) and cgroup v2
# (/sys/fs/cgroup/<name>/cpu.max).
#
#   FEDRA_CGROUP=fedra-slow FEDRA_CGROUP_QUOTA_US=25000 scripts/chromium-in-cgroup.sh --headless ...
set -euo pipefail

name="${FEDRA_CGROUP:-}"
quota="${FEDRA_CGROUP_QUOTA_US:--1}"
[[ -z "$quota" ]] && quota=-1
period="${FEDRA_CGROUP_PERIOD_US:-100000}"
real="${FEDRA_CHROMIUM_REAL:-/usr/bin/chromium}"
root="${FEDRA_CGROUP_ROOT:-/sys/fs/cgroup}"

die () { echo "chromium-in-cgroup: $*" >&2; exit 97; }

[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "FEDRA_CGROUP must be a plain group name, got '${name}'"
[[ "$quota" =~ ^-?[0-9]+$ ]] || die "FEDRA_CGROUP_QUOTA_US must be an integer (µs), got '${quota}'"
[[ "$period" =~ ^[0-9]+$ ]] || die "FEDRA_CGROUP_PERIOD_US must be an integer (µs), got '${period}'"

if [[ -f "$root/cpu/cpu.cfs_quota_us" ]]; then
  # cgroup v1: the cpu controller limits, cpuacct (if mounted) accounts
  dir="$root/cpu/$name"
  mkdir -p "$dir" || die "cannot create $dir (needs root and a writable cgroup v1 cpu hierarchy)"
  echo "$period" > "$dir/cpu.cfs_period_us" || die "cannot write $dir/cpu.cfs_period_us"
  echo "$quota" > "$dir/cpu.cfs_quota_us" || die "cannot write $dir/cpu.cfs_quota_us"
  echo $$ > "$dir/cgroup.procs" || die "cannot move pid $$ into $dir"
  if [[ -f "$root/cpuacct/cpuacct.usage" ]]; then
    acct="$root/cpuacct/$name"
    mkdir -p "$acct" && echo $$ > "$acct/cgroup.procs" || echo "chromium-in-cgroup: no cpuacct accounting" >&2
  fi
elif [[ -f "$root/cgroup.controllers" ]]; then
  # cgroup v2 (unified): enable the cpu controller for children of the root
  grep -qw cpu "$root/cgroup.controllers" || die "cgroup v2 without the cpu controller"
  grep -qw cpu "$root/cgroup.subtree_control" || echo +cpu > "$root/cgroup.subtree_control" \
    || die "cannot enable +cpu in $root/cgroup.subtree_control"
  dir="$root/$name"
  mkdir -p "$dir" || die "cannot create $dir"
  if (( quota < 0 )); then echo "max $period" > "$dir/cpu.max"; else echo "$quota $period" > "$dir/cpu.max"; fi \
    || die "cannot write $dir/cpu.max"
  echo $$ > "$dir/cgroup.procs" || die "cannot move pid $$ into $dir"
else
  die "no CPU cgroup found under $root (neither v1 cpu/cpu.cfs_quota_us nor v2 cgroup.controllers)"
fi

exec "$real" "$@"
