#!/usr/bin/env bash
# A real one-node Slurm cluster (Debian's slurm-wlm and munge, started here
# as ../shared/recipes/slurm-single-node.md describes): a 4-task job array
# evaluates a Fashion-MNIST subset in shards, one task is killed mid-way and
# resubmitted, and the merged result must equal the one-process run. TAP;
# skips cleanly where it cannot run (not root, packages or dataset absent).
set -uo pipefail
cli=${XCEPTION_CLI:?}
fm=/usr/share/datasets/fashion-mnist
skip () { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root (slurmd and munged need it)"
for p in sbatch slurmctld slurmd munged; do command -v "$p" >/dev/null || skip "$p is not installed (slurm-wlm, munge)"; done
[ -d "$fm" ] || skip "dataset-fashion-mnist is not installed"

tmp=$(mktemp -d /tmp/xs-slurm-XXXXXX)
host=$(hostname -s)
started_munge=0
cleanup () {
  scontrol shutdown >/dev/null 2>&1
  sleep 1
  pkill -f "slurmctld -f $tmp" 2>/dev/null; pkill -f "slurmd -f $tmp" 2>/dev/null
  [ "$started_munge" -eq 1 ] && pkill -x munged 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "1..3"

# MUNGE
if ! pgrep -x munged >/dev/null; then
  if [ ! -f /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
  fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  su -s /bin/sh munge -c /usr/sbin/munged && started_munge=1
fi
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=xs
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$tmp/state" "$tmp/spool"
/usr/sbin/slurmctld -f "$SLURM_CONF" && /usr/sbin/slurmd -f "$SLURM_CONF"
up=0
for _ in $(seq 60); do
  if sinfo -h -o %t 2>/dev/null | grep -q idle; then up=1; break; fi
  sleep 0.5
done
if [ $up -eq 1 ] && munge -n | unmunge >/dev/null 2>&1; then echo "ok 1 a one-node Slurm cluster is up"
else echo "not ok 1 a one-node Slurm cluster is up"; tail -5 "$tmp/slurmctld.log" | sed 's/^/# /'; exit 1; fi

# the one-process run; a model slow enough (random weights) to kill a task mid-way
model="builtin:xception:size=96,width=1/4,classes=10"
args=(evaluate --model "$model" --dataset "fashion-mnist:$fm" --subset 240)
"$cli" "${args[@]}" --out-dir "$tmp/ref" >/dev/null 2>&1
"$cli" merge --out-dir "$tmp/ref" --json > "$tmp/ref.json" 2>"$tmp/ref.err"

cat > "$tmp/job.sh" <<JOB
#!/bin/bash
exec "$cli" ${args[*]@Q} --shards-from-env --out-dir "$tmp/out"
JOB
chmod +x "$tmp/job.sh"
job=$(sbatch --parsable --array=0-3 --output="$tmp/out_%a.txt" "$tmp/job.sh")
# kill task 2 once it has written a few records
killed=0
for _ in $(seq 600); do
  part="$tmp/out/evaluate-shard-2-of-4.jsonl.part"
  if [ -f "$part" ] && [ "$(wc -l < "$part")" -ge 4 ]; then scancel "${job}_2"; killed=1; break; fi
  sleep 0.1
done
for _ in $(seq 600); do [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break; sleep 0.5; done
unfinished=$("$cli" merge --out-dir "$tmp/out" 2>&1 >/dev/null)
XCEPTION_SHARDS=4 sbatch --wait --parsable --array=2 --export=ALL,XCEPTION_SHARDS=4 \
  --output="$tmp/again_%a.txt" "$tmp/job.sh" >/dev/null
"$cli" merge --out-dir "$tmp/out" --json > "$tmp/merged.json" 2>"$tmp/merge.err"
if [ $killed -eq 1 ] && echo "$unfinished" | grep -q "shard 2 is unfinished" && \
   grep -q "by an earlier run" "$tmp/again_2.txt" && cmp -s "$tmp/ref.json" "$tmp/merged.json"; then
  echo "ok 2 a 4-task array, task 2 killed mid-way and resubmitted, merges to the one-process result"
else
  echo "not ok 2 a 4-task array, task 2 killed mid-way and resubmitted, merges to the one-process result"
  echo "# killed=$killed; merge before the resubmission said: $unfinished"
  sed 's/^/# /' "$tmp/again_2.txt" "$tmp/merge.err" 2>/dev/null | head -5
  diff "$tmp/ref.json" "$tmp/merged.json" | head -5 | sed 's/^/# /'
fi
n=$(python3 -c "import json,sys; print(json.load(open('$tmp/merged.json'))['images'])" 2>/dev/null)
if [ "$n" = "240" ]; then echo "ok 3 every image once (240)"; else echo "not ok 3 every image once ($n)"; fi
