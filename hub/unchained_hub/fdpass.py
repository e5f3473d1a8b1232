"""The tunnel's ProxyCommand: hand ssh the connection to the job's sshd.

`condor_ssh_to_job` connects to the job's starter (through the pool's
connection broker) and offers that connection on a Unix socket of its own
("fdpass"), where its own ProxyCommand, `condor_ssh_to_job -proxy PATH`,
would receive it and then copy every byte between ssh and the connection,
1 KB per read, for the life of the tunnel: a process per server, and
downloads at a third of the direct speed.

With `-oProxyUseFdpass=yes`, ssh instead expects its ProxyCommand to pass it
the connected socket. So this module, run as
`python -m unchained_hub.fdpass CONDOR_PROXY_COMMAND...` (the `%x` that
condor_ssh_to_job expands ends with the fdpass socket's path), receives the
connection from condor_ssh_to_job (a one-byte message with the descriptor,
SCM_RIGHTS) and passes it on to ssh on standard output the same way, then
exits: ssh talks to the job's sshd directly.
"""

import socket
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[-2] != "-proxy":
        sys.exit("usage: python -m unchained_hub.fdpass CONDOR_SSH_TO_JOB -proxy FDPASS_SOCKET")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as fdpass:
        fdpass.settimeout(30)
        fdpass.connect(argv[-1])
        _, fds, _, _ = socket.recv_fds(fdpass, 1, 1)
    if len(fds) != 1:
        sys.exit("unchained_hub.fdpass: condor_ssh_to_job passed no connection")
    with socket.socket(fileno=sys.stdout.fileno()) as to_ssh:
        socket.send_fds(to_ssh, [b"\0"], fds)
        to_ssh.detach()
    return 0


if __name__ == "__main__":
    sys.exit(main())
