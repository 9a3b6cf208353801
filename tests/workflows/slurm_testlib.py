"""Helpers for the workflow tests: a throw-away single-node Slurm (slurm_cluster.sh), job
submission and waiting, and job records from `scontrol show job` (this cluster has no
accounting database, so no sacct; finished jobs stay in slurmctld for MinJobAge=600 s and are
also written to the jobcomp/filetxt log)."""
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_SH = os.path.join(HERE, "slurm_cluster.sh")
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "PREEMPTED"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


class Cluster:
    """A single-node Slurm under STATE_DIR. start() returns None, or the reason it cannot start."""

    def __init__(self, state_dir):
        self.dir = os.path.abspath(state_dir)
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.env = dict(os.environ)
        self.started = False
        self._requeued_seen = {}

    def start(self):
        # Free ports of our own, so that two tests (ctest -j) or a real Slurm do not collide.
        ctld, slurmd = free_port(), free_port()
        while slurmd == ctld:
            slurmd = free_port()
        env = dict(os.environ, NUCSEG_SLURMCTLD_PORT=str(ctld), NUCSEG_SLURMD_PORT=str(slurmd))
        p = subprocess.run(["bash", CLUSTER_SH, "start", self.dir], capture_output=True, text=True, env=env)
        if p.returncode == 77:
            return (p.stderr.strip().replace("SKIPPED: ", "") or "Slurm cannot start here")
        if p.returncode != 0:
            raise AssertionError(f"slurm_cluster.sh start failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        self.started = True
        self.env["SLURM_CONF"] = self.conf
        for k in list(self.env):   # a job's own Slurm variables must not leak into our submissions
            if k.startswith(("SLURM_", "SBATCH_", "SRUN_")) and k != "SLURM_CONF":
                del self.env[k]
        return None

    def stop(self):
        if self.started:
            subprocess.run(["bash", CLUSTER_SH, "stop", self.dir], capture_output=True, text=True)
            self.started = False

    def jobcomp_log(self):
        path = os.path.join(self.dir, "log", "jobcomp.log")
        return open(path).read() if os.path.exists(path) else ""

    def daemon_logs(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log"):
            path = os.path.join(self.dir, "log", name)
            if os.path.exists(path):
                out.append(f"--- {name} (tail)\n" + "".join(open(path).readlines()[-30:]))
        return "\n".join(out)

    # --- commands -------------------------------------------------------------------------
    def cmd(self, *args, cwd=None, env=None, check=True):
        full = dict(self.env)
        if env:
            full.update(env)
        p = subprocess.run(list(map(str, args)), capture_output=True, text=True, cwd=cwd, env=full)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def sbatch(self, *args, cwd, env=None):
        """Submits; returns the job id."""
        p = self.cmd("sbatch", "--parsable", *args, cwd=cwd, env=env)
        return p.stdout.strip().split(";")[0]

    def jobs(self, jobid):
        """Records of a job (one per array task) from scontrol: a list of dicts."""
        p = self.cmd("scontrol", "-o", "show", "job", jobid, check=False)
        if p.returncode != 0:
            return []
        records = []
        for line in p.stdout.splitlines():
            if not line.strip():
                continue
            rec = {}
            for m in re.finditer(r"(\S+?)=(\S*)", line):
                rec.setdefault(m.group(1), m.group(2))
            records.append(rec)
        return records

    def job(self, jobid):
        recs = self.jobs(jobid)
        if len(recs) != 1:
            raise AssertionError(f"expected one record for job {jobid}, got {len(recs)}")
        return recs[0]

    def show_job(self, jobid):
        return self.cmd("scontrol", "show", "job", jobid, check=False).stdout

    def squeue(self):
        return self.cmd("squeue", "-o", "%.10i %.9P %.22j %.8u %.2t %.8M %.6D %R", check=False).stdout

    def wait(self, *jobids, timeout=240, release_requeued=False):
        """Waits until no task of the jobs is active; returns {jobid or jobid_task: record}."""
        deadline = time.time() + timeout
        while True:
            recs = [r for j in jobids for r in self.jobs(j)]
            active = [r for r in recs if r.get("JobState") in ACTIVE]
            if not active:
                out = {}
                for r in recs:
                    key = r["JobId"]
                    if r.get("ArrayTaskId") not in (None, "", "N/A"):
                        key = f"{r['ArrayJobId']}_{r['ArrayTaskId']}"
                    out[key] = r
                return out
            if release_requeued:
                for r in active:
                    if r.get("JobState") == "PENDING" and r.get("Reason") == "BeginTime":
                        self.release_requeued(r["JobId"])
            if time.time() > deadline:
                raise AssertionError(f"jobs {jobids} still active after {timeout} s:\n{self.squeue()}\n"
                                     + "\n".join(self.show_job(j) for j in jobids) + self.daemon_logs())
            time.sleep(0.5)

    def wait_until(self, what, predicate, timeout=180, jobid=None):
        deadline = time.time() + timeout
        while not predicate():
            if time.time() > deadline:
                extra = self.show_job(jobid) if jobid else ""
                raise AssertionError(f"timed out waiting for {what}\n{self.squeue()}\n{extra}")
            time.sleep(0.2)

    def release_requeued(self, jobid, settle=3.0):
        """Slurm holds a requeued batch job ~2 minutes (BeginTime); a test has no time for that.
        Called while the job is pending for that reason, it lets the job start once it has been
        pending for `settle` seconds: a job restarted within the second of its requeue is refused
        by slurmd ("Job credential revoked") and ends FAILED."""
        first = self._requeued_seen.setdefault(jobid, time.time())
        if time.time() - first >= settle:
            self.cmd("scontrol", "update", f"JobId={jobid}", "StartTime=now", check=False)
            del self._requeued_seen[jobid]


def task_key(array_id, task):
    return f"{array_id}_{task}"


def log_text(path):
    return open(path, errors="replace").read() if os.path.exists(path) else f"<no log {path}>"


def say(*parts):
    print(*parts, flush=True)
    sys.stdout.flush()
