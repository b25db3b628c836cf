"""Serves a folder of pre-recorded streams with nginx on 127.0.0.1 (a neutral server, not ours):
a POST to a file's path answers 200 with the file, as `Content-Type: text/event-stream`
(`application/x-ndjson` under /ollama/, `application/vnd.amazon.eventstream` under /bedrock/). Prints the base URL, then runs until its stdin closes.

    python serve_static.py ROOT WORKDIR
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

CONFIG = """\
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    sendfile on;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        # The static module refuses POST (405); answer it with the file, as a GET would be.
        error_page 405 =200 $uri;
        location / {{ types {{ }} default_type text/event-stream; }}
        location /ollama/ {{ types {{ }} default_type application/x-ndjson; }}
        location /bedrock/ {{ types {{ }} default_type application/vnd.amazon.eventstream; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    root, work = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(CONFIG.format(user=user, work=work, root=root, port=port))
    nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        else:
            sys.exit("nginx did not start: " + (work / "error.log").read_text())
        print(f"http://127.0.0.1:{port}", flush=True)
        sys.stdin.read()
    finally:
        nginx.terminate()
        nginx.wait()


if __name__ == "__main__":
    main()
