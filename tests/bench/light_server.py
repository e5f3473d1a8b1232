"""The light notebook command of P4 (tests/bench/README.md): a stand-in for
jupyterhub-singleuser that answers every HTTP request at once, so that 100
servers on two small workers measure the spawners, not Jupyter's start-up.

It listens where either spawner tells a single-user server to:
- ours (unchained-singleuser): `--ServerApp.sock=PATH`, a Unix socket;
- stock batchspawner (batchspawner-singleuser runs this file with run_path):
  the port in JUPYTERHUB_SERVICE_URL, on all addresses.
Standard library only; the bench copies it to the workers for the run.
"""

import json
import os
import socketserver
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = json.dumps({"light": True}).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_HEAD = do_GET

    def log_message(self, *args):
        # Quiet; and a Unix socket's client has no address to log.
        pass


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        # BaseHTTPRequestHandler expects an (address, port) pair.
        return request, ("unix", 0)


def main(argv):
    sockets = [a.split("=", 1)[1] for a in argv if a.startswith("--ServerApp.sock=")]
    if sockets:
        path = sockets[-1]
        if os.path.exists(path):
            os.unlink(path)
        old = os.umask(0o077)  # as jupyter_server's sock_mode 0600
        server = UnixHTTPServer(path, Handler)
        os.umask(old)
    else:
        url = urllib.parse.urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
        server = ThreadingHTTPServer(("0.0.0.0", url.port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
