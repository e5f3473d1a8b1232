"""Running commands on the host machine, with their output kept in a log."""

import subprocess
import sys

from .config import LabError


def run(argv, *, log=None, step=None, check=True, **kwargs):
    """Run argv; its output goes to the log file if one is given.

    On failure raise LabError naming the step and where its output is.
    """
    argv = [str(a) for a in argv]
    if log is None:
        kwargs.setdefault("stdout", subprocess.PIPE)
        result = subprocess.run(argv, stderr=subprocess.PIPE, text=True, **kwargs)
        output = (result.stdout or "") + result.stderr
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            f.write(f"$ {' '.join(argv)}\n")
            f.flush()
            result = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, text=True, **kwargs)
        output = None
    if check and result.returncode != 0:
        where = f"; log: {log}" if log else f":\n{output.strip()}"
        raise LabError(f"{step or argv[0]} failed (exit {result.returncode}){where}")
    return result


def say(message):
    print(f"labctl: {message}", file=sys.stderr, flush=True)
