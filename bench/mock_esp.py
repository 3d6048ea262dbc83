"""A local stand-in for an ESP's batch send API: Mailgun's ``POST /v3/<domain>/messages``, as
django-anymail's Mailgun backend calls it, on 127.0.0.1.

    python bench/mock_esp.py PORT [LATENCY_MS] [MOST_RECIPIENTS]

Each call waits ``LATENCY_MS`` (a distant API), refuses more than ``MOST_RECIPIENTS`` "to"
addresses (400, as a provider's limit), and otherwise answers as Mailgun does: 200,
``{"id": "<…>", "message": "Queued. Thank you."}``. It counts the recipients it accepted and
prints the count on SIGTERM. Tests run it in a thread (``MockEsp``) and read what it took:
each call's recipients, recipient-variables and headers. Used by ``bench/dispatch.py --esp``.
"""

import email.parser
import email.policy
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Call:
    """One accepted API call: its form fields (name → list of values)."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields

    @property
    def to(self) -> list[str]:
        return self.fields.get("to", [])

    @property
    def variables(self) -> dict:
        return json.loads(self.fields.get("recipient-variables", ["{}"])[0])

    def first(self, name: str) -> str:
        return self.fields.get(name, [""])[0]


def _form(content_type: str, body: bytes) -> dict[str, list[str]]:
    """multipart/form-data (what requests sends with files) or urlencoded, as lists."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qs

        return parse_qs(body.decode(), keep_blank_values=True)
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, list[str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields.setdefault(name, []).append(payload.decode("utf-8", "replace"))
    return fields


class MockEsp:
    """The server, in a thread of this process: ``calls`` holds what it accepted."""

    def __init__(self, *, port: int = 0, latency: float = 0.0, most: int = 1000):
        self.latency = latency
        self.most = most
        self.calls: list[Call] = []
        self.refused_calls = 0
        self.accepted = 0
        # Print the running count of recipients accepted after each call.
        self.report = False
        # Keep only the count, not each call (a long benchmark).
        self.keep = True
        # Set: every call waits this long more, then gets no answer (a timeout).
        self.hang = 0.0
        # Set: every call is answered with this status and message instead.
        self.fail: tuple[int, str] | None = None
        # A call with one of these addresses is refused (400), as Mailgun refuses a bad one.
        self.invalid: set[str] = set()
        self.lock = threading.Lock()
        esp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fields = _form(self.headers.get("Content-Type", ""), body)
                time.sleep(esp.latency)
                if esp.hang:
                    with esp.lock:
                        esp.calls.append(Call(fields))
                    time.sleep(esp.hang)
                    self.close_connection = True
                    return
                if esp.fail is not None:
                    return self._answer(esp.fail[0], {"message": esp.fail[1]})
                bad = esp.invalid.intersection(fields.get("to", []))
                if bad:
                    with esp.lock:
                        esp.refused_calls += 1
                    return self._answer(400, {"message": f"'to' parameter is not valid: {bad}"})
                if len(fields.get("to", [])) > esp.most:
                    with esp.lock:
                        esp.refused_calls += 1
                    return self._answer(400, {"message": f"Too many recipients: {esp.most}"})
                with esp.lock:
                    if esp.keep:
                        esp.calls.append(Call(fields))
                    esp.accepted += len(fields.get("to", []))
                    if esp.report:
                        # smtp-sink's counter format, which bench/dispatch.py reads.
                        print(f"mesg={esp.accepted}", flush=True)
                domain = self.path.split("/")[2] if self.path.count("/") >= 3 else "example"
                self._answer(
                    200,
                    {"id": f"<{uuid.uuid4().hex}@{domain}>", "message": "Queued. Thank you."},
                )

            def _answer(self, status: int, data: dict):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v3"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "MockEsp":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def recipients(self) -> list[str]:
        with self.lock:
            return [address for call in self.calls for address in call.to]


if __name__ == "__main__":
    port = int(sys.argv[1])
    latency_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    most = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    esp = MockEsp(port=port, latency=latency_ms / 1000, most=most)
    esp.report, esp.keep = True, False

    def stop(*_args):
        print(f"accepted {esp.accepted} recipients", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on 127.0.0.1:{esp.port}", flush=True)
    esp.server.serve_forever()
