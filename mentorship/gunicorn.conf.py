"""The web server's settings: `gunicorn -c mentorship/gunicorn.conf.py mentorship.wsgi`.

Rendering and sealing PDFs and sending emails run in the task worker, so a
web worker only answers requests.
"""

import os

# Listen where the environment says: GUNICORN_BIND (e.g. unix:/run/mentorship.sock),
# else PORT on every interface as platforms expect, else only for a proxy on this host.
bind = [
    os.environ.get("GUNICORN_BIND")
    or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")
]

# Sync workers, 2 × cores + 1 as gunicorn suggests: a request waits mostly on the
# database, so one or two more than the cores keep them busy. WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * len(os.sched_getaffinity(0)) + 1))

# A request that takes 30 s is stuck, not slow: kill and replace its worker.
timeout = 30

# On a restart or stop, finish the requests in hand; well inside systemd's 90 s.
graceful_timeout = 20

# Replace each worker after about 1000 requests, so memory growth stays bounded;
# the jitter keeps the workers from all restarting at once.
max_requests = 1000
max_requests_jitter = 100

# The heartbeat file is touched constantly; in memory it never waits on a disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# One line per request on stdout, for the process manager's log (errors go to stderr).
accesslog = "-"

# forwarded_allow_ips stays gunicorn's (FORWARDED_ALLOW_IPS, else 127.0.0.1,::1):
# it only decides whether gunicorn believes X-Forwarded-Proto. With BEHIND_PROXY
# the app reads that header itself, and it takes the client address from
# TRUSTED_PROXY_COUNT, so there is nothing to widen here.
