"""A Hugging Face Hub look-alike on loopback for the tests (Python standard library only).

    python3 hub_server.py ROOT LOG [--cut] [--wrong-etag] [--gated] [--slow]

Serves ROOT/<org>/<repo>/<file> as the Hub does: HEAD/GET /<org>/<repo>/resolve/<rev>/<file> answer 302 to
the file host (http://127.0.0.1:CDN_PORT/cdn/…: another origin, so a client must drop its token there)
with X-Repo-Commit, X-Linked-Etag (the sha256) and X-Linked-Size; the file host honours Range.
Errors carry X-Error-Code (RepoNotFound, EntryNotFound, GatedRepo). Prints the port on stdout, then
appends one line per request to LOG: "METHOD PATH range=… auth=yes|no".
  --cut         the first full GET of each file sends half the bytes and closes the connection
  --wrong-etag  announce a sha256 the bytes do not have
  --gated       every repository answers 401 GatedRepo
  --slow        send bodies in small chunks with pauses (to make two clients overlap)
"""
import hashlib, http.server, os, sys, threading, time

root, log_path = sys.argv[1], sys.argv[2]
flags = set(sys.argv[3:])
commit = "0123456789abcdef0123456789abcdef01234567"
cut_done = set()
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with lock, open(log_path, "a") as log:
            log.write("%s %s range=%s auth=%s\n" % (self.command, self.path, self.headers.get("Range", "-"),
                                                     "yes" if self.headers.get("Authorization") else "no"))

    def error(self, status, code):
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):
        self.handle_request(body=False)

    def do_GET(self):
        self.handle_request(body=True)

    def handle_request(self, body):
        self.record()
        parts = self.path.split("/")
        if len(parts) >= 6 and parts[3] == "resolve":
            org, repo, file = parts[1], parts[2], "/".join(parts[5:])
            if "--gated" in flags:
                return self.error(401, "GatedRepo")
            if not os.path.isdir(os.path.join(root, org, repo)):
                return self.error(404, "RepoNotFound")
            path = os.path.join(root, org, repo, file)
            if not os.path.isfile(path):
                return self.error(404, "EntryNotFound")
            data = open(path, "rb").read()
            sha = hashlib.sha256(data).hexdigest()
            if "--wrong-etag" in flags:
                sha = hashlib.sha256(data + b"x").hexdigest()
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/cdn/%s/%s/%s" % (cdn.server_port, org, repo, file))
            self.send_header("X-Repo-Commit", commit)
            self.send_header("X-Linked-Etag", '"%s"' % sha)
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("ETag", '"gitsha-not-used"')
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif len(parts) >= 5 and parts[1] == "cdn":
            path = os.path.join(root, *parts[2:])
            if not os.path.isfile(path):
                return self.error(404, "EntryNotFound")
            data = open(path, "rb").read()
            start, status = 0, 200
            if self.headers.get("Range", "").startswith("bytes="):
                start, status = int(self.headers["Range"][6:].split("-")[0]), 206
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) - start))
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
            self.end_headers()
            if not body:
                return
            payload = data[start:]
            with lock:
                cut = "--cut" in flags and start == 0 and path not in cut_done
                if cut:
                    cut_done.add(path)
            if cut:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            step = 1 << 16 if "--slow" in flags else len(payload) or 1
            for i in range(0, len(payload), step):
                self.wfile.write(payload[i:i + step])
                if "--slow" in flags:
                    time.sleep(0.01)
        else:
            self.error(404, "EntryNotFound")


# The Hub and its file host: two origins on loopback.
cdn = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=cdn.serve_forever, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
