"""A job that serves one line over HTTP on a TCP port and on a Unix socket.

Usage (as an HTCondor job): python3 job_server.py PORT
The Unix socket is server.sock in the job's scratch directory.
"""

import getpass
import os
import socket
import socketserver
import sys
import threading


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        via = "unix" if self.server.address_family == socket.AF_UNIX else "tcp"
        body = f"hello from {socket.gethostname()} as {getpass.getuser()} over {via} in {os.getcwd()}\n"
        self.wfile.write(f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode())


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True


def main():
    port = int(sys.argv[1])
    unix = socketserver.ThreadingUnixStreamServer("server.sock", Handler)
    threading.Thread(target=unix.serve_forever, daemon=True).start()
    TCPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
