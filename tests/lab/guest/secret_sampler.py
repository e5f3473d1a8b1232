"""Sample every process's command line and environment on a lab host, as
root, until a line comes on standard input; then look for the secret that
line gives in all that was seen.

Run by `secretscan.Sampler` as `python3 -c SOURCE` (the host's own Python,
standard library only). It prints `sampling` once its first sample is taken,
samples about 90 times a second, and keeps each distinct command line and
environment of each process (pid and start time) with its owner and parent.
The secret comes last, on standard input, as JSON `{"secret": "..."}`, so it
is in no command line (the sampler's own included) and in nothing sampled
before. It prints one JSON object: how many samples over how many seconds,
how many processes, and every process whose command line or environment
held the secret, with its uid, command line and ancestors.
"""

import json
import os
import select
import sys
import time

INTERVAL = 0.01


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sample(seen):
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = read(f"/proc/{name}/stat").rsplit(b")", 1)[1].split()
            uid = os.stat(f"/proc/{name}").st_uid
            cmdline, environ = read(f"/proc/{name}/cmdline"), read(f"/proc/{name}/environ")
        except OSError:
            continue  # ended meanwhile
        entry = seen.setdefault((int(name), int(fields[19])),
                                {"uid": uid, "ppid": int(fields[1]), "cmdlines": set(), "environs": set()})
        entry["cmdlines"].add(cmdline)
        entry["environs"].add(environ)


def argv(cmdline):
    return cmdline.decode(errors="replace").split("\0")[:-1] or ["?"]


def ancestors(seen, key):
    by_pid = {pid: (pid, start) for pid, start in seen}
    chain, pid = [], seen[key]["ppid"]
    while pid in by_pid and len(chain) < 30:
        entry = seen[by_pid[pid]]
        chain.append({"pid": pid, "uid": entry["uid"], "argv": argv(max(entry["cmdlines"], key=len))})
        pid = entry["ppid"]
    return chain


def main():
    seen, samples, started = {}, 0, time.monotonic()
    sample(seen)
    samples += 1
    print("sampling", flush=True)
    while not select.select([sys.stdin], [], [], INTERVAL)[0]:
        sample(seen)
        samples += 1
    seconds = time.monotonic() - started
    line = sys.stdin.readline()
    if not line:
        sys.exit("secret_sampler: standard input ended without a secret")
    secret = json.loads(line)["secret"].encode()
    hits = []
    for key, entry in seen.items():
        for where in ("cmdline", "environ"):
            if any(secret in value for value in entry[where + "s"]):
                hits.append({"where": where, "pid": key[0], "uid": entry["uid"],
                             "argv": argv(max(entry["cmdlines"], key=len)), "ancestors": ancestors(seen, key)})
    print(json.dumps({"samples": samples, "seconds": round(seconds, 2), "processes": len(seen), "hits": hits}))


main()
