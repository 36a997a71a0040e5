"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests of the LLM backends.

It answers /chat/completions with the next reply from a queue and records each
request, so tests can check what tianping sent and how it handles what came back.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedLLM:
    def __init__(self):
        self.replies: list[dict] = []
        self.requests: list[dict] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def reply(self, content: str | None = None, *, status: int = 200, raw: bytes | None = None, delay: float = 0.0,
              stream: list[str] | None = None) -> None:
        self.replies.append({"content": content, "status": status, "raw": raw, "delay": delay, "stream": stream})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                scripted.requests.append({"path": self.path, "body": body,
                                          "authorization": self.headers.get("Authorization")})
                reply = scripted.replies.pop(0) if scripted.replies else {"content": "好的", "status": 200,
                                                                          "raw": None, "delay": 0, "stream": None}
                time.sleep(reply["delay"])
                if reply["stream"] is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in reply["stream"]:
                        chunk = {"choices": [{"delta": {"content": piece}}]}
                        self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                if reply["raw"] is not None:
                    payload = reply["raw"]
                else:
                    payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": reply["content"]}}]},
                                         ensure_ascii=False).encode()
                self.send_response(reply["status"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
