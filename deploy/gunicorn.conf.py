"""gunicorn settings for the web process (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`).

Only nginx may reach gunicorn: it binds to 127.0.0.1, and TRUST_PROXY=1 makes the app take the
client address from nginx's X-Forwarded-For — anyone reaching gunicorn directly could choose
their own. Every value can be set from the environment (systemd's EnvironmentFile)."""
import multiprocessing
import os


def _setting(name, default):
    return os.environ.get(name) or default  # an empty value means "the default"


bind = _setting("BIND", "127.0.0.1:8000")
# Requests wait on PostgreSQL more than they compute: threads overlap those waits cheaply.
worker_class = "gthread"
workers = int(_setting("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(_setting("GUNICORN_THREADS", 4))
# A request that takes longer than this is stuck: the worker is replaced.
timeout = int(_setting("GUNICORN_TIMEOUT", 60))
# On SIGTERM or SIGHUP (reload), running requests get this long to finish.
graceful_timeout = 30
# nginx keeps connections to us open (upstream keepalive); keep them a little longer than it.
keepalive = 75
# Replace each worker now and then: a slow leak never becomes an outage.
max_requests = 20000
max_requests_jitter = 2000
# The app is imported once in the master; workers fork from it (faster start, shared pages).
preload_app = True
# Request bodies reach us whole: nginx buffers uploads from slow phones before passing them on.
limit_request_line = 8190
accesslog = _setting("GUNICORN_ACCESS_LOG", "-")
errorlog = _setting("GUNICORN_ERROR_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
proc_name = "kjxx-web"


def post_fork(server, worker):
    """Connections made in the master (by preloading) must not be shared by the workers."""
    app = server.app.wsgi()
    sqlalchemy = getattr(app, "extensions", {}).get("sqlalchemy")
    if sqlalchemy is not None:
        with app.app_context():
            for engine in sqlalchemy.engines.values():
                engine.dispose(close=False)
