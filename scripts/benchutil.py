"""What the bench_*.py comparison scripts share."""
import json, os, subprocess, sys


def measured(cmd, env=None):
    """Runs cmd, returns its last JSON line and its peak RSS in MB (via wait4)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"{' '.join(cmd)} exited with status {status}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024
