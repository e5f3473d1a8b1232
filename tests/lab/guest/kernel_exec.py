"""Run code in a new kernel of a notebook server through the hub's proxy, over
the Jupyter REST and websocket API, as a browser does; print the result as JSON.

Runs on the hub host with the hub's Python (which has tornado). Reads one
JSON object from stdin: {"url": server URL through the proxy, "ca": the lab
CA's certificate, "token": ...,
"kernel": kernel name, "code": code}. Prints {"status", "output", "seconds"}.
"""

import asyncio
import json
import sys
import time
import uuid

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect


async def main(params):
    base = params["url"].rstrip("/")
    headers = {"Authorization": f"token {params['token']}"}
    # The hub's proxy serves TLS with a certificate from the lab's CA.
    tls = {"ca_certs": params["ca"]}
    http = AsyncHTTPClient()
    answer = await http.fetch(f"{base}/api/kernels", method="POST", headers=headers,
                              body=json.dumps({"name": params["kernel"]}), **tls)
    kernel = json.loads(answer.body)["id"]
    started = time.monotonic()
    try:
        ws_url = base.replace("https://", "wss://", 1) + f"/api/kernels/{kernel}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers=headers, **tls))
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "lab", "session": uuid.uuid4().hex,
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": params["code"], "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        # The reply comes on the shell channel, the output on iopub, in no set
        # order between them: all output is in once iopub says idle.
        output, status, idle = [], None, False
        while status is None or not idle:
            raw = await asyncio.wait_for(ws.read_message(), timeout=90)
            if raw is None:
                raise SystemExit("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                output.append(msg["content"]["text"])
            elif msg["msg_type"] == "execute_reply":
                status = msg["content"]["status"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        ws.close()
        print(json.dumps({"status": status, "output": "".join(output), "seconds": time.monotonic() - started}))
    finally:
        await http.fetch(f"{base}/api/kernels/{kernel}", method="DELETE", headers=headers, raise_error=False,
                         **tls)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.stdin.readline())))
