"""A fake Cloudinary API on 127.0.0.1 for the tests (the SDK's upload_prefix points here).

It answers what chatdesk calls: the Upload API's `upload` and `destroy`
(POST /v1_1/<cloud>/<resource_type>/upload|destroy, multipart), the Admin API's
resource listing (GET /v1_1/<cloud>/resources/<resource_type>/upload?prefix=...), and
delivery of a stored file (GET /<cloud>/<image|video>/upload/v123/<folder>/<id>.<ext>).
Every upload is recorded (cloud, resource type, folder, public id, file bytes) and kept
as a resource until destroyed. `fail_uploads` / `fail_admin` make uploads / listings
answer a Cloudinary error; `delay` makes every answer slow; `hold()` keeps every call
waiting until `release()` (for timeouts and requests in flight, without guessing delays).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from tests.support import local_http


@dataclass
class Upload:
    cloud: str
    resource_type: str
    folder: str
    public_id: str
    filename: str
    data: bytes
    fields: dict[str, str]
    secure_url: str = ""
    created_at: str = ""


@dataclass
class FakeCloudinary:
    uploads: list[Upload] = field(default_factory=list)
    destroyed: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # delivery paths fetched (GET)
    fail_uploads: bool = False
    fail_admin: bool = False
    delay: float = 0.0
    held: int = 0  # calls waiting in hold() now
    _gate: threading.Event | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self) -> None:
        """From now on every call waits (unanswered) until release()."""
        self._gate = threading.Event()

    def release(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    def wait_until_held(self, count: int, timeout: float = 30) -> None:
        """Wait until `count` calls are waiting in hold()."""
        deadline = time.monotonic() + timeout
        while self.held < count:
            assert time.monotonic() < deadline, f"{self.held} of {count} calls arrived"
            time.sleep(0.01)

    def start(self) -> FakeCloudinary:
        self.httpd = local_http.serve(self._handle)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        self.release()
        local_http.stop(self.httpd)

    def resources(self) -> list[Upload]:
        gone = set(self.destroyed)
        return [u for u in self.uploads if (u.resource_type, f"{u.folder}/{u.public_id}") not in gone]

    # --- HTTP --------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.command
        if self.delay:
            time.sleep(self.delay)
        gate = self._gate
        if gate is not None:
            with self._lock:
                self.held += 1
            gate.wait()
            with self._lock:
                self.held -= 1
        parsed = urlparse(request.path)
        parts = parsed.path.strip("/").split("/")
        try:
            if method == "POST" and len(parts) == 4 and parts[0] == "v1_1" and parts[3] == "upload":
                status, answer = self._upload(request, cloud=parts[1], resource_type=parts[2])
            elif method == "POST" and len(parts) == 4 and parts[0] == "v1_1" and parts[3] == "destroy":
                fields, _ = self._form(request)
                self.destroyed.append((parts[2], fields.get("public_id", "")))
                status, answer = 200, {"result": "ok"}
            elif (
                method == "GET"
                and len(parts) >= 5
                and parts[2] == "upload"
                and parts[1] in ("image", "video")
            ):
                # Delivery (res.cloudinary.com/<cloud>/<type>/upload/v123/<folder>/<id>.<ext>):
                # the stored bytes, for code that downloads a file (CLOUDINARY_DOWNLOAD_PREFIX).
                self._deliver(request, parsed.path)
                return
            elif method == "GET" and len(parts) == 5 and parts[2] == "resources" and self.fail_admin:
                status, answer = 500, {"error": {"message": "General Error (fake outage)"}}
            elif method == "GET" and len(parts) == 5 and parts[2] == "resources":
                status, answer = 200, self._list(parts[1], parts[3], parse_qs(parsed.query))
            else:
                status, answer = 404, {"error": {"message": f"unknown endpoint {request.path}"}}
        except Exception as exc:  # a bug in the fake should be visible, not a hang
            status, answer = 500, {"error": {"message": f"fake failed: {exc!r}"}}
        body = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _deliver(self, request, path: str) -> None:
        found = next((u for u in self.resources() if u.secure_url.endswith(path)), None)
        self.downloads.append(path)
        body = found.data if found is not None else b"not found"
        request.send_response(200 if found is not None else 404)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _form(self, request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        length = int(request.headers.get("Content-Length", 0))
        raw = request.rfile.read(length)
        return local_http.parse_multipart(request.headers["Content-Type"], raw)

    def _upload(self, request, cloud: str, resource_type: str) -> tuple[int, dict]:
        fields, files = self._form(request)
        if self.fail_uploads:
            return 500, {"error": {"message": "General Error (fake outage)"}}
        if "signature" not in fields or "api_key" not in fields:
            return 401, {"error": {"message": "Missing signature or api_key"}}
        filename, data = files["file"]
        ext = filename.rsplit(".", 1)[-1]
        folder = fields.get("folder", "")
        public_id = fields.get("public_id") or "random123"
        delivery = "image" if resource_type == "image" else "video"
        upload = Upload(cloud, resource_type, folder, public_id, filename, data, fields)
        upload.secure_url = (
            f"https://res.cloudinary.com/{cloud}/{delivery}/upload/v123/{folder}/{public_id}.{ext}"
        )
        upload.created_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.uploads.append(upload)
        return 200, {
            "public_id": f"{folder}/{public_id}",
            "version": 123,
            "resource_type": delivery,
            "format": ext,
            "bytes": len(data),
            "type": "upload",
            "created_at": upload.created_at,
            "url": upload.secure_url.replace("https://", "http://"),
            "secure_url": upload.secure_url,
        }

    def _list(self, cloud: str, resource_type: str, query: dict) -> dict:
        prefix = query.get("prefix", [""])[0]
        listed = [
            {
                "public_id": f"{u.folder}/{u.public_id}",
                "secure_url": u.secure_url,
                "created_at": u.created_at,
                "resource_type": u.resource_type,
            }
            for u in self.resources()
            if u.cloud == cloud
            and u.resource_type == resource_type
            and f"{u.folder}/{u.public_id}".startswith(prefix)
        ]
        return {"resources": listed}
