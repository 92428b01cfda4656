"""What every local stand-in of an outside service shares: an HTTP server on 127.0.0.1 (a free
port unless told one) in a thread, started and stopped as a context manager. A stand-in says
how it answers GET and POST (`_handle_get`, `_handle_post`)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up; nothing to report


class LocalStandIn:
    _server = None
    _thread = None
    _port = 0

    def _handle_get(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _handle_post(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                standin._handle_get(self)

            def do_POST(self):  # noqa: N802
                standin._handle_post(self)

            def log_message(self, *_args):
                pass

        self._server = _Server(("127.0.0.1", self._port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
