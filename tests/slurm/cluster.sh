#!/usr/bin/env bash
# A one-node Slurm cluster on localhost for the tests (as root, which CI
# is): installs Debian's slurm-wlm and munge if missing, starts munged (if
# it is not running), slurmctld and slurmd with a private configuration
# under DIR, and stops exactly the daemons it started.
#
#   eval "$(tests/slurm/cluster.sh start DIR)"   # exports SLURM_CONF
#   sbatch --array=0-3 ...
#   tests/slurm/cluster.sh stop DIR
#
# start prints the environment to use (SLURM_CONF=DIR/slurm.conf) on
# stdout and progress on stderr; it exits 77 (CTest's skip code) when it
# cannot run here (not root, no apt and no Slurm), and 1 when the cluster
# does not come up within 60 s (with the daemons' logs).
set -u
cmd=${1:?usage: cluster.sh start|stop DIR}
dir=${2:?usage: cluster.sh start|stop DIR}
say() { echo "slurm: $*" >&2; }

stop() {
    for d in slurmd slurmctld munged; do
        [ -f "$dir/$d.started" ] || continue
        pid=$(cat "$dir/$d.pid" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        rm -f "$dir/$d.started"
    done
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi
[ "$cmd" = start ] || { echo "usage: cluster.sh start|stop DIR" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        say "skipped: Slurm is not installed and this is not root with apt-get"
        exit 77
    fi
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2 ||
        { say "apt-get install slurm-wlm munge failed"; exit 1; }
fi
if [ "$(id -u)" -ne 0 ]; then
    say "skipped: starting slurmd needs root"
    exit 77
fi

mkdir -p "$dir"/{state,spool,log}
dir=$(cd "$dir" && pwd)

# munge: the package made a key; start the daemon unless one runs
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || {
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        chown munge:munge /etc/munge/munge.key 2>/dev/null
        chmod 400 /etc/munge/munge.key
    }
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null
    pidfile=/run/munge/recarena-test-munged.pid
    rm -f "$pidfile"
    runuser -u munge -- /usr/sbin/munged --pid-file="$pidfile" >&2 2>&1 ||
        /usr/sbin/munged --force --pid-file="$pidfile" >&2 2>&1 ||
        { say "munged does not start"; exit 1; }
    for _ in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    cp "$pidfile" "$dir/munged.pid"
    touch "$dir/munged.started"
fi

node=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
cat >"$dir/slurm.conf" <<CONF
# One-node test cluster written by tests/slurm/cluster.sh
ClusterName=recarena-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

slurmctld -f "$SLURM_CONF" -i >&2 2>&1 || { say "slurmctld does not start"; cat "$dir/log/slurmctld.log" >&2; exit 1; }
touch "$dir/slurmctld.started"
slurmd -f "$SLURM_CONF" >&2 2>&1 || { say "slurmd does not start"; cat "$dir/log/slurmd.log" >&2; stop; exit 1; }
touch "$dir/slurmd.started"
for _ in $(seq 600); do
    state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1)
    case $state in idle | mix | alloc)
        say "cluster up: node $node ($cpus CPUs), SLURM_CONF=$SLURM_CONF"
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
        ;;
    esac
    sleep 0.1
done
say "the node did not come up within 60 s (state '${state:-none}')"
tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
stop
exit 1
