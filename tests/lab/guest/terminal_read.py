"""Open a terminal of a notebook server through the hub's proxy, as JupyterLab
does (REST, then the terminal's websocket), type a line, and print what the
terminal showed as JSON once the expected text appeared.

Runs on the hub host with the hub's Python (which has tornado). Reads one
JSON object from stdin: {"url": server URL through the proxy, "ca": the lab
CA's certificate, "token": ...,
"type": a line to type, "until": text to wait for}. Prints {"output", "seconds"}.
"""

import asyncio
import json
import sys
import time

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect


async def main(params):
    base = params["url"].rstrip("/")
    headers = {"Authorization": f"token {params['token']}"}
    # The hub's proxy serves TLS with a certificate from the lab's CA.
    tls = {"ca_certs": params["ca"]}
    http = AsyncHTTPClient()
    answer = await http.fetch(f"{base}/api/terminals", method="POST", headers=headers, body="{}", **tls)
    name = json.loads(answer.body)["name"]
    started = time.monotonic()
    output = []
    try:
        ws_url = base.replace("https://", "wss://", 1) + f"/terminals/websocket/{name}"
        ws = await websocket_connect(HTTPRequest(ws_url, headers=headers, **tls))
        ws.write_message(json.dumps(["stdin", params["type"] + "\r"]))
        while params["until"] not in "".join(output):
            raw = await asyncio.wait_for(ws.read_message(), timeout=60)
            if raw is None:
                raise SystemExit(f"the terminal's websocket closed; it showed: {''.join(output)!r}")
            kind, *content = json.loads(raw)
            if kind == "stdout":
                output.append(content[0])
        ws.close()
        print(json.dumps({"output": "".join(output), "seconds": time.monotonic() - started}))
    finally:
        await http.fetch(f"{base}/api/terminals/{name}", method="DELETE", headers=headers, raise_error=False,
                         **tls)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.stdin.readline())))
