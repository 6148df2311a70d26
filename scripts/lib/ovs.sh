# shellcheck shell=bash
# A private Open vSwitch in a directory, for the demo and the benchmarks:
# its own ovsdb-server and ovs-vswitchd (dummy userspace datapath, nothing
# configured in the root network namespace), stopped by the pids in their
# pidfiles. Source this file; the functions use only their arguments.

# ovs_start DIR BRIDGE...: starts the daemons in DIR and creates the bridges.
ovs_start() {
  local dir=$1
  shift
  export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
  ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
    --pidfile="$dir/ovsdb-server.pid" --unixctl="$dir/ovsdb-server.ctl" \
    --log-file="$dir/ovsdb-server.log" --detach --no-chdir 2>/dev/null
  ovs-vsctl --db="unix:$dir/db.sock" --no-wait init
  ovs-vswitchd "unix:$dir/db.sock" --enable-dummy=override --disable-system \
    --disable-system-route --pidfile="$dir/ovs-vswitchd.pid" \
    --unixctl="$dir/ovs-vswitchd.ctl" --log-file="$dir/ovs-vswitchd.log" \
    --detach --no-chdir 2>/dev/null
  local br
  for br in "$@"; do
    ovs-vsctl --db="unix:$dir/db.sock" --timeout=30 add-br "$br" -- \
      set bridge "$br" datapath_type=dummy protocols=OpenFlow13,OpenFlow15 fail_mode=secure
  done
}

# ovs_stop DIR: stops the daemons started in DIR (if any) by pid.
ovs_stop() {
  local dir=$1 name pid i
  for name in ovs-vswitchd ovsdb-server; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do
      # Gone, or a zombie waiting for PID 1.
      if ! [ -e "/proc/$pid" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; then
        break
      fi
      sleep 0.02
      [ "$i" -eq 100 ] && echo "warning: $name ($pid) still running" >&2
    done
    rm -f "$dir/$name.pid"
  done
}

# ovs_sweep PREFIX: stops and removes directories /tmp/PREFIX.* left by runs
# that crashed (their owner.pid process is gone).
ovs_sweep() {
  local prefix=$1 dir owner
  for dir in /tmp/"$prefix".*; do
    [ -d "$dir" ] || continue
    owner=$(cat "$dir/owner.pid" 2>/dev/null || echo 0)
    if [ "$owner" -gt 0 ] && kill -0 "$owner" 2>/dev/null; then
      continue
    fi
    ovs_stop "$dir"
    rm -rf "$dir"
  done
}
