"""What each TCP port of a host answers, seen from another lab host.

Run as `python3 -c SOURCE HOST CA PORT...` (standard library only). For each
port, one JSON line: `port`; `connect` ("connected", "timeout" or the
error's name); if connected, `tls`: whether a TLS handshake with HOST's name,
verified against CA, succeeds (else `tls_error`); and `plain`: the first
line the port answers to a plain-text HTTP request (or "" if none within
3 s), to tell a plain HTTP server (and an ssh banner) apart.
"""

import json
import socket
import ssl
import sys

host, ca, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]


def connect(port):
    return socket.create_connection((host, port), timeout=3)


for port in ports:
    result = {"port": port}
    try:
        connect(port).close()
        result["connect"] = "connected"
    except socket.timeout:
        result["connect"] = "timeout"
    except OSError as e:
        result["connect"] = type(e).__name__
    if result["connect"] == "connected":
        context = ssl.create_default_context(cafile=ca)
        try:
            with context.wrap_socket(connect(port), server_hostname=host):
                result["tls"] = True
        except (OSError, ssl.SSLError) as e:
            result["tls"], result["tls_error"] = False, f"{type(e).__name__}: {e}"
        with connect(port) as plain:
            plain.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            try:
                result["plain"] = plain.recv(200).decode(errors="replace").split("\n")[0].strip()
            except OSError:
                result["plain"] = ""
    print(json.dumps(result), flush=True)
