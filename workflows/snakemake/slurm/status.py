#!/usr/bin/env python3
"""Snakemake cluster-status script for Slurm: prints running, success or failed for a job id.

Asks slurmctld (scontrol) first, which needs no accounting database; a job that slurmctld has
forgotten (MinJobAge, default 5 minutes after it ended) is looked up with sacct when the site
has accounting. A requeued job (preemption, node failure) is running, not failed.
"""
import subprocess
import sys

RUNNING = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
           "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
           "RESV_DEL_HOLD", "SPECIAL_EXIT", "PREEMPTED"}
FAILED = {"FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
          "DEADLINE", "REVOKED"}


def verdict(state):
    state = state.split()[0].rstrip("+") if state else ""
    if state == "COMPLETED":
        return "success"
    if state in FAILED:
        return "failed"
    return "running" if state in RUNNING or not state else "failed"


def scontrol_state(jobid):
    """The job's state; None when slurmctld no longer knows it; "" when it could not be asked."""
    try:
        p = subprocess.run(["scontrol", "-o", "show", "job", jobid], capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if p.returncode != 0:
        if "invalid job id" in p.stderr.lower():
            return None
        sys.stderr.write(f"status.py: scontrol failed, asking again later: {p.stderr.strip()}\n")
        return ""
    for field in p.stdout.split():
        if field.startswith("JobState="):
            return field.split("=", 1)[1]
    return ""


def sacct_state(jobid):
    try:
        p = subprocess.run(["sacct", "-n", "-X", "-P", "-j", jobid, "-o", "State"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in p.stdout.splitlines() if line.strip()]
    return lines[-1] if p.returncode == 0 and lines else None


def main():
    jobid = sys.argv[1].split(";")[0].strip()
    state = scontrol_state(jobid)
    if state == "":   # slurmctld busy or unreachable: ask again at the next poll
        print("running")
        return
    if state is None:
        state = sacct_state(jobid)
    if state is None:
        sys.stderr.write(f"status.py: Slurm job {jobid} is unknown to scontrol and sacct; "
                         "taking it as failed\n")
        print("failed")
        return
    print(verdict(state))


if __name__ == "__main__":
    main()
