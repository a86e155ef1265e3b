#!/usr/bin/env python3
"""How busy the cores are in each stage of a desilo run.

    cores.py LOG OUT -- COMMAND...

Runs COMMAND, writes its stderr (desilo's JSON log lines) to LOG, and
samples the CPU time of COMMAND's whole process tree (connector plugins
included) from /proc every 0.1 s. Stages follow the log: "extract" until
the first build stage starts, then each build stage by name. OUT gets,
per stage, its wall time, CPU time and cores busy (CPU / wall).

A stage near the machine's core count is CPU-bound: only less work makes
it faster. A stage well below it waits on something (a serial step, I/O),
and more parallelism could help. The sampling itself takes a few per
cent of one core. Exits with COMMAND's status.
"""
import json
import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root):
    """CPU seconds of root and all its descendants, living or reaped."""
    children, cpu = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(pid)
        children.setdefault(int(fields[1]), []).append(p)
        # utime, stime, and the reaped children's cutime, cstime.
        cpu[p] = sum(int(x) for x in fields[11:15])
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0)
        todo.extend(children.get(p, []))
    return total / TICK


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    log_path, out_path, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
    stage = ["extract"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)

        def follow():
            for line in proc.stderr:
                log.write(line)
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "build" and "stage" in entry:
                    stage[0] = entry["stage"]

        reader = threading.Thread(target=follow)
        reader.start()
        stages = {}  # name -> [wall, cpu]
        last_t, last_cpu = time.monotonic(), 0.0
        while proc.poll() is None:
            time.sleep(0.1)
            now, cpu = time.monotonic(), tree_cpu(proc.pid)
            s = stages.setdefault(stage[0], [0.0, 0.0])
            s[0] += now - last_t
            s[1] += max(0.0, cpu - last_cpu)
            last_t, last_cpu = now, cpu
        reader.join()
    report = {
        name: {"wall_s": round(w, 2), "cpu_s": round(c, 2), "cores_busy": round(c / w, 2) if w else 0}
        for name, (w, c) in stages.items()
    }
    with open(out_path, "w") as f:
        json.dump(report, f, indent=2)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
