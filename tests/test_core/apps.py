"""Serve functions with each supported framework on a free local port, in a thread."""

from __future__ import annotations

import socketserver
import threading
import types
import typing
import wsgiref.simple_server

import inngest

FRAMEWORKS = ("http_server", "wsgi", "flask", "django")
DJANGO_URLCONF_KEY = "test_core.urlconf"

# Django's ROOT_URLCONF; every served app brings its own urlconf (see UrlconfMiddleware).
urlpatterns: list[object] = []


class App:
    """A running app; ``url`` is its serve URL."""

    def __init__(self, server: typing.Any, port: int, path: str) -> None:
        self._server = server
        self.port = port
        self.path = path
        self.url = f"http://127.0.0.1:{port}{path}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: typing.Any) -> None:
        return None


def _wsgi_server(app: typing.Any) -> _ThreadingWSGIServer:
    return wsgiref.simple_server.make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )


def start(
    framework: str,
    client: inngest.Inngest,
    functions: list[inngest.Function],
    *,
    serve_path: str | None = None,
    serve_origin: str | None = None,
    enable_unauthed_sync: bool | None = None,
) -> App:
    """Serve ``functions`` with ``framework`` on 127.0.0.1 and a free port."""
    options: dict[str, typing.Any] = {
        "serve_path": serve_path,
        "serve_origin": serve_origin,
        "enable_unauthed_sync": enable_unauthed_sync,
    }
    path = serve_path or "/api/inngest"
    if framework == "http_server":
        from inngest import http_server

        server: typing.Any = http_server.serve(client, functions, port=0, **options)
    elif framework == "wsgi":
        from inngest import wsgi

        server = _wsgi_server(wsgi.serve(client, functions, **options))
    elif framework == "flask":
        server = _flask_server(client, functions, options)
    elif framework == "django":
        server = _django_server(client, functions, options)
    else:
        raise ValueError(f"unknown framework {framework!r}")
    return App(server, int(server.server_address[1]), path)


def _flask_server(
    client: inngest.Inngest, functions: list[inngest.Function], options: dict[str, typing.Any]
) -> typing.Any:
    import flask
    import werkzeug.serving

    from inngest import flask as inngest_flask

    app = flask.Flask(f"itest-{client.app_id}")
    inngest_flask.serve(app, client, functions, **options)
    return werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)


def _django_server(
    client: inngest.Inngest, functions: list[inngest.Function], options: dict[str, typing.Any]
) -> typing.Any:
    import django.core.wsgi

    from inngest import django as inngest_django

    configure_django()
    urlconf = types.ModuleType(f"itest_urls_{id(functions)}")
    urlconf.urlpatterns = [inngest_django.serve(client, functions, **options)]  # type: ignore
    handler = django.core.wsgi.get_wsgi_application()

    def app(environ: dict[str, typing.Any], start_response: typing.Any) -> typing.Any:
        environ[DJANGO_URLCONF_KEY] = urlconf
        return handler(environ, start_response)

    return _wsgi_server(app)


_django_lock = threading.Lock()


def configure_django() -> None:
    """A minimal in-process Django project (no apps, no database), one per process: the
    unit tests' Django client uses it too (its CSRF middleware checks that the adapter's
    view is exempt)."""
    import django
    from django.conf import settings

    with _django_lock:
        if settings.configured:
            return
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            SECRET_KEY="itest-not-secret",
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[f"{__name__}.UrlconfMiddleware",
                        "django.middleware.csrf.CsrfViewMiddleware"],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()


class UrlconfMiddleware:
    """Routes each request with the urlconf of the app that received it."""

    def __init__(self, get_response: typing.Callable[[typing.Any], typing.Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: typing.Any) -> typing.Any:
        urlconf = request.META.get(DJANGO_URLCONF_KEY)
        if urlconf is not None:
            request.urlconf = urlconf
        return self.get_response(request)
