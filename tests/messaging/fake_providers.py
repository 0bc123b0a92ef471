"""A local fake of the SMS (eSMS-style) and Zalo ZNS providers: a real HTTP server on a
socket in a thread, speaking their JSON and their error answers. Like the real ones, it
takes a request id (`RequestId`, `tracking_id`) and answers a repeat with the same message
id instead of delivering twice."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeProviders:
    url: str = ""
    # Scripted answers per path, taken in order: an HTTP status, or "hang" (delivers the
    # message, then never answers: the worker dies before it learns the message went out).
    script: dict[str, list[int | str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # request id → message id
    no_zalo: set[str] = field(default_factory=set)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, payload: dict[str, Any]) -> tuple[int | str, dict[str, Any]]:
        with self.lock:
            self.requests.append((path, payload))
            scripted = self.script.get(path) or []
            step = scripted.pop(0) if scripted else 200
        if step not in (200, "hang"):
            return step, {"error": "upstream"}
        answer = self.deliver(path, payload)
        if step == "hang":
            self.arrived.set()
            self.release.wait(30)
            return "hang", {}
        return 200, answer

    def deliver(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if path == "/sms":
            key = payload["RequestId"]
            with self.lock:
                msg_id = self.delivered.setdefault(key, f"sms-{len(self.delivered) + 1}")
            return {"CodeResult": "100", "SMSID": msg_id}
        if payload["phone"] in self.no_zalo:
            return {"error": -108, "message": "Phone number is not a Zalo user"}
        key = payload["tracking_id"]
        with self.lock:
            msg_id = self.delivered.setdefault(key, f"zns-{len(self.delivered) + 1}")
        return {"error": 0, "message": "Success", "data": {"msg_id": msg_id}}

    def sent_to(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


def serve() -> Iterator[FakeProviders]:
    fake = FakeProviders()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            status, body = fake.answer(self.path, json.loads(self.rfile.read(length)))
            if status == "hang":
                return
            data = json.dumps(body).encode()
            self.send_response(int(status))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
