#!/usr/bin/env bash
# A throw-away single-node Slurm cluster on this machine, for the workflow tests.
#   slurm_cluster.sh start DIR   configure and start munge, slurmctld and slurmd under DIR;
#                                prints the SLURM_CONF to export; exit 77 if it cannot start
#   slurm_cluster.sh stop DIR    cancel its jobs and stop the daemons started under DIR
# No accounting database (no slurmdbd, so no sacct): job states come from `scontrol show job`
# (kept MinJobAge=600 s after the end) and from the jobcomp/filetxt log DIR/log/jobcomp.log.
# NUCSEG_SLURMCTLD_PORT / NUCSEG_SLURMD_PORT choose the ports (default 6817 / 6818).
set -uo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?state directory}")
conf=$dir/slurm.conf

skip() { echo "SKIPPED: $*" >&2; exit 77; }

# The pid in DIR/NAME.pid when that process is still this cluster's daemon (not a reused pid).
ours() {
  local pid
  pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$conf" && echo "$pid"
}

stop() {
  # Jobs first (their slurmstepd would outlive slurmd), then the daemons of this cluster only.
  if [ -n "$(ours slurmctld)" ]; then
    SLURM_CONF=$conf timeout 10 scancel --partition=debug >/dev/null 2>&1
    for _ in $(seq 1 20); do
      [ -z "$(SLURM_CONF=$conf timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  local pids=()
  for d in slurmd slurmctld; do
    pid=$(ours "$d") && kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  done
  return 0
}

start() {
  for b in slurmctld slurmd munged sbatch sinfo; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || skip "$b is not installed (apt-get install slurmctld slurmd slurm-client munge)"
  done
  [ "$(id -u)" -eq 0 ] || skip "starting slurmd needs root"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4 ))
  cat > "$conf" <<CONF
ClusterName=nucsegtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${NUCSEG_SLURMCTLD_PORT:-6817}
SlurmdPort=${NUCSEG_SLURMD_PORT:-6818}
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null
    [ -f /etc/munge/munge.key ] || { mungekey -c 2>/dev/null || create-munge-key -f 2>/dev/null; chown munge:munge /etc/munge/munge.key; }
    (runuser -u munge -- munged 2>/dev/null || munged --force) >/dev/null 2>&1
    sleep 1
    munge -n | unmunge >/dev/null 2>&1 || skip "munge does not start"
  fi
  stop
  SLURM_CONF=$conf slurmctld -f "$conf" || skip "slurmctld does not start (see $dir/log)"
  SLURM_CONF=$conf slurmd -f "$conf" || skip "slurmd does not start (see $dir/log)"
  for _ in $(seq 1 30); do
    if SLURM_CONF=$conf sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 1
  done
  skip "the Slurm node did not become idle (see $dir/log)"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
