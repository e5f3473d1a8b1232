"""Kernel and download timings of one notebook server through a hub's proxy,
measured on the hub host (so no labctl start-up is timed). Runs with the hub's
Python, which has tornado; the bench passes it as `python3 -c`.

Reads one JSON object from stdin: {"url": the server's URL through the proxy,
"ca": the lab CA's certificate, "token": an admin token, "what": a list of
"first", "latency", "download", "messages": N, "download_bytes": N}.
Prints one JSON object:
- first: seconds from asking for a kernel to the result of its first execution;
- latency: milliseconds from each execute_request to its execute_reply, for
  N requests one after the other on one websocket (after 5 not counted);
- download: bytes and seconds of GET /files/NAME of a file of random bytes the
  kernel writes in the server's root (and removes afterwards).
"""

import asyncio
import json
import sys
import time
import uuid

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

WARM_UP = 5
DOWNLOAD_NAME = "unchained-bench-download.bin"


class Kernel:
    def __init__(self, base, headers, tls):
        self.base, self.headers, self.tls = base, headers, tls
        self.http = AsyncHTTPClient()
        self.session = uuid.uuid4().hex

    async def start(self):
        answer = await self.http.fetch(f"{self.base}/api/kernels", method="POST", headers=self.headers,
                                       body=json.dumps({"name": "python3"}), **self.tls)
        self.id = json.loads(answer.body)["id"]
        url = self.base.replace("https://", "wss://", 1) + f"/api/kernels/{self.id}/channels"
        self.ws = await websocket_connect(HTTPRequest(url, headers=self.headers, **self.tls))

    async def execute(self, code, wait_idle=False):
        """Send code; return when its execute_reply arrives (and, if asked, once
        the kernel is idle again, so all output is in)."""
        msg_id = uuid.uuid4().hex
        self.ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench",
                       "session": self.session, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        status, idle = None, False
        while status is None or (wait_idle and not idle):
            raw = await asyncio.wait_for(self.ws.read_message(), timeout=120)
            if raw is None:
                raise SystemExit("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "execute_reply":
                status = msg["content"]["status"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        if status != "ok":
            raise SystemExit(f"the kernel answered {status} to {code!r}")

    async def shut_down(self):
        self.ws.close()
        await self.http.fetch(f"{self.base}/api/kernels/{self.id}", method="DELETE", headers=self.headers,
                              raise_error=False, **self.tls)


async def main(params):
    # The default body limit (100 MiB) would end a larger download.
    AsyncHTTPClient.configure(None, max_body_size=1 << 31)
    base = params["url"].rstrip("/")
    headers = {"Authorization": f"token {params['token']}"}
    tls = {"ca_certs": params["ca"]}
    result = {}
    started = time.monotonic()
    kernel = Kernel(base, headers, tls)
    await kernel.start()
    try:
        await kernel.execute("1 + 1", wait_idle=True)
        result["first_seconds"] = time.monotonic() - started
        if "latency" in params["what"]:
            latencies = []
            for i in range(WARM_UP + params["messages"]):
                sent = time.perf_counter()
                await kernel.execute("pass")
                if i >= WARM_UP:
                    latencies.append((time.perf_counter() - sent) * 1000)
            result["latency_ms"] = latencies
        if "download" in params["what"]:
            size = int(params["download_bytes"])
            await kernel.execute(f"import os\nwith open({DOWNLOAD_NAME!r}, 'wb') as f:\n"
                                 f"    f.write(os.urandom({size}))\n", wait_idle=True)
            received = 0

            def count(chunk):
                nonlocal received
                received += len(chunk)
            sent = time.perf_counter()
            await kernel.http.fetch(f"{base}/files/{DOWNLOAD_NAME}", headers=headers, streaming_callback=count,
                                    request_timeout=600, **tls)
            result["download"] = {"bytes": received, "seconds": time.perf_counter() - sent}
            await kernel.execute(f"import os\nos.remove({DOWNLOAD_NAME!r})", wait_idle=True)
            if received != size:
                raise SystemExit(f"downloaded {received} bytes of {size}")
    finally:
        await kernel.shut_down()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.stdin.readline())))
