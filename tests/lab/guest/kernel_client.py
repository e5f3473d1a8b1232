"""A kernel of a notebook server through the hub's proxy, over the Jupyter
REST and websocket API as a browser uses it: the one client of the lab's
tests and of the bench (tests/bench).

Runs on the hub host with the hub's Python (which has tornado), sent as
`python3 -c` (labtest.Lab.hub_helper), so everything it needs is in this
file; the first argument picks what it does. Reads one JSON object from
stdin: {"url": the server's URL through the proxy, "ca": the lab CA's
certificate, "token": an admin token, ...} and prints one JSON object.

exec: runs code in a new kernel. More input: {"kernel": kernel name,
"code": code}. Prints {"status", "output", "seconds"}.

bench: kernel and download timings of one server, measured on the hub host
(so no labctl start-up is timed). More input: {"what": a list of "first",
"latency", "download", "messages": N, "download_bytes": N}. Prints
- first_seconds: from asking for a kernel to the result of its first execution;
- latency_ms: milliseconds from each execute_request to its execute_reply,
  for N requests one after the other on one websocket (after 5 not counted);
- download: bytes and seconds of GET /files/NAME of a file of random bytes
  the kernel writes in the server's root (and removes afterwards).
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
    """A new kernel of the server at params["url"], and a websocket to it."""

    def __init__(self, params, username, reply_timeout):
        self.base = params["url"].rstrip("/")
        self.headers = {"Authorization": f"token {params['token']}"}
        # The hub's proxy serves TLS with a certificate from the lab's CA.
        self.tls = {"ca_certs": params["ca"]}
        self.username, self.reply_timeout = username, reply_timeout
        self.http = AsyncHTTPClient()
        self.session = uuid.uuid4().hex
        self.ws = None

    async def start(self, name):
        answer = await self.http.fetch(f"{self.base}/api/kernels", method="POST", headers=self.headers,
                                       body=json.dumps({"name": name}), **self.tls)
        self.id = json.loads(answer.body)["id"]

    async def connect(self):
        url = self.base.replace("https://", "wss://", 1) + f"/api/kernels/{self.id}/channels"
        self.ws = await websocket_connect(HTTPRequest(url, headers=self.headers, **self.tls))

    async def execute(self, code, wait_idle=False):
        """Send code; return its status and output when its execute_reply
        arrives (and, if asked, once the kernel is idle again, so all output
        is in: the reply comes on the shell channel, the output on iopub, in
        no set order between them)."""
        msg_id = uuid.uuid4().hex
        self.ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.username,
                       "session": self.session, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        output, status, idle = [], None, False
        while status is None or (wait_idle and not idle):
            raw = await asyncio.wait_for(self.ws.read_message(), timeout=self.reply_timeout)
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
        return status, "".join(output)

    async def shut_down(self):
        if self.ws is not None:
            self.ws.close()
        await self.http.fetch(f"{self.base}/api/kernels/{self.id}", method="DELETE", headers=self.headers,
                              raise_error=False, **self.tls)


async def run_code(params):
    """exec: run params["code"] in a new kernel; print its status and output."""
    kernel = Kernel(params, username="lab", reply_timeout=90)
    await kernel.start(params["kernel"])
    started = time.monotonic()
    try:
        await kernel.connect()
        status, output = await kernel.execute(params["code"], wait_idle=True)
        print(json.dumps({"status": status, "output": output, "seconds": time.monotonic() - started}))
    finally:
        await kernel.shut_down()


async def execute_ok(kernel, code, wait_idle=False):
    status, _ = await kernel.execute(code, wait_idle)
    if status != "ok":
        raise SystemExit(f"the kernel answered {status} to {code!r}")


async def time_server(params):
    """bench: the timings params["what"] asks for; print them."""
    # The default body limit (100 MiB) would end a larger download.
    AsyncHTTPClient.configure(None, max_body_size=1 << 31)
    result = {}
    started = time.monotonic()
    kernel = Kernel(params, username="bench", reply_timeout=120)
    await kernel.start("python3")
    await kernel.connect()
    try:
        await execute_ok(kernel, "1 + 1", wait_idle=True)
        result["first_seconds"] = time.monotonic() - started
        if "latency" in params["what"]:
            latencies = []
            for i in range(WARM_UP + params["messages"]):
                sent = time.perf_counter()
                await execute_ok(kernel, "pass")
                if i >= WARM_UP:
                    latencies.append((time.perf_counter() - sent) * 1000)
            result["latency_ms"] = latencies
        if "download" in params["what"]:
            size = int(params["download_bytes"])
            await execute_ok(kernel, f"import os\nwith open({DOWNLOAD_NAME!r}, 'wb') as f:\n"
                                     f"    f.write(os.urandom({size}))\n", wait_idle=True)
            received = 0

            def count(chunk):
                nonlocal received
                received += len(chunk)
            sent = time.perf_counter()
            await kernel.http.fetch(f"{kernel.base}/files/{DOWNLOAD_NAME}", headers=kernel.headers,
                                    streaming_callback=count, request_timeout=600, **kernel.tls)
            result["download"] = {"bytes": received, "seconds": time.perf_counter() - sent}
            await execute_ok(kernel, f"import os\nos.remove({DOWNLOAD_NAME!r})", wait_idle=True)
            if received != size:
                raise SystemExit(f"downloaded {received} bytes of {size}")
    finally:
        await kernel.shut_down()
    print(json.dumps(result))


ENTRY_POINTS = {"exec": run_code, "bench": time_server}

if __name__ == "__main__":
    asyncio.run(ENTRY_POINTS[sys.argv[1]](json.loads(sys.stdin.readline())))
