"""Smoke test of a built notebook environment, run with the environment's own Python:

    ROOT/envs/NAME/VERSION/bin/python notebook-env/smoke.py

Checks what a notebook job needs: the packages import, the single-user
server and our launcher run, the server extensions are enabled, the Xpra
desktop is registered with jupyter-server-proxy, and every kernel of the
environment starts and executes code. Exits non-zero naming what failed.
"""

import importlib
import os
import subprocess
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

PREFIX = Path(sys.prefix)
MODULES = ("jupyterlab", "jupyter_server", "jupyterhub.singleuser", "unchained_hub.singleuser",
           "jupyter_server_proxy", "jupyter_xprahtml5_proxy", "jupyter_resource_usage", "jupyterlab_git",
           "ipywidgets", "numpy", "matplotlib", "ipykernel", "bash_kernel")
EXTENSIONS = ("jupyterlab", "jupyter_server_proxy", "jupyter_resource_usage", "jupyterlab_git")
# Code for each kernel, and what its output must contain.
KERNEL_CHECKS = {
    "python3": ("import sys; print(sys.prefix, 6 * 7)", f"{PREFIX} 42"),
    "bash": ("echo $((6 * 7))", "42"),
    "ir": ("cat(6 * 7)", "42"),
}

failures = []


def check(what, ok, detail=""):
    print(f"smoke: {'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def command(argv):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def run_kernel(name, code, expected):
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name=name, startup_timeout=60)
    try:
        output = []
        reply = kc.execute_interactive(code, timeout=60, output_hook=lambda msg: output.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
        text = "".join(output)
        check(f"kernel {name} executes code", reply["content"]["status"] == "ok" and expected in text,
              f"status {reply['content']['status']}, output {text!r}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main():
    for module in MODULES:
        try:
            importlib.import_module(module)
            check(f"import {module}", True)
        except Exception as e:  # any import failure is a failed check
            check(f"import {module}", False, repr(e))
    bin_dir = PREFIX / "bin"
    code, out = command([bin_dir / "jupyterhub-singleuser", "--version"])
    check("jupyterhub-singleuser --version", code == 0, out)
    code, out = command([bin_dir / "unchained-singleuser", "--help"])
    check("unchained-singleuser --help", code == 0, out)
    code, out = command([bin_dir / "jupyter", "server", "extension", "list"])
    for ext in EXTENSIONS:
        check(f"server extension {ext} enabled", any(
            line.split()[:1] == [ext] and "enabled" in line for line in out.splitlines()), out)
    servers = {ep.name for ep in entry_points(group="jupyter_serverproxy_servers")}
    check("the Xpra desktop is a jupyter-server-proxy launcher", "xprahtml5" in servers, sorted(servers))

    from jupyter_client.kernelspec import KernelSpecManager
    own = {name: path for name, path in KernelSpecManager().find_kernel_specs().items()
           if Path(path).is_relative_to(PREFIX)}
    check("at least two kernels", len(own) >= 2, sorted(own))
    for name in sorted(own):
        if name in KERNEL_CHECKS:
            run_kernel(name, *KERNEL_CHECKS[name])
        else:
            check(f"kernel {name} has a check in smoke.py", False)
    if failures:
        sys.exit(f"smoke: {len(failures)} check(s) failed: {', '.join(failures)}")
    print(f"smoke: {PREFIX} passed")


if __name__ == "__main__":
    # Kernels write connection files; keep them out of the caller's home.
    with tempfile.TemporaryDirectory() as runtime:
        os.environ["JUPYTER_RUNTIME_DIR"] = runtime
        main()
