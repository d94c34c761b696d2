#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for peft4j's Slurm integration test and for trying
# `peft4j compare --executor slurm` locally. Debian's slurm-wlm and munge; everything on localhost.
#
#   tools/slurm/local-slurm.sh start    install (as root, via apt-get) if missing, configure, start; idempotent
#   tools/slurm/local-slurm.sh stop     stop the daemons
#   tools/slurm/local-slurm.sh status   print sinfo
#
# Writes /etc/slurm/slurm.conf (only if it is not there, or was written by this script) and a munge key.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by peft4j tools/slurm/local-slurm.sh"
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOG=/var/log/slurm

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "local-slurm: $1 needs root (run it with sudo)" >&2
    exit 2
  fi
}

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return
  fi
  need_root "installing slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
}

configure() {
  if [[ -f $CONF ]] && ! grep -q "$MARK" "$CONF"; then
    echo "local-slurm: $CONF exists and was not written by this script; using it as it is" >&2
    return
  fi
  need_root "writing $CONF"
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  mkdir -p /etc/slurm "$STATE" "$SPOOL" "$LOG"
  cat > "$CONF" <<CONF
$MARK
ClusterName=peft4j-local
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=10
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
}

running() {
  timeout 5 sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'
}

start() {
  install
  if running; then
    return
  fi
  configure
  need_root "starting munged, slurmctld and slurmd"
  if ! pgrep -x munged >/dev/null; then
    if id munge >/dev/null 2>&1; then
      runuser -u munge -- /usr/sbin/munged
    else
      /usr/sbin/munged --force
    fi
  fi
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
  for _ in $(seq 1 60); do
    if running; then
      sinfo
      return
    fi
    # a node that was down when the controller last saw it comes back explicitly
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "local-slurm: the node did not become idle; see $LOG/slurmctld.log and $LOG/slurmd.log" >&2
  sinfo >&2 || true
  exit 1
}

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo ;;
  -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "usage: $0 start|stop|status (see --help)" >&2; exit 2 ;;
esac
