"""``weather-warehouse serve``: the API under uvicorn, one worker, graceful on SIGTERM."""

from __future__ import annotations

import argparse
import logging

from warehouse.errors import ExitCode
from warehouse.settings import Settings

log = logging.getLogger("service")

# Below Kubernetes' default 30 s termination grace period, so in-flight
# requests finish before the kubelet's SIGKILL.
GRACEFUL_SHUTDOWN_S = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port`` (defaults from ``HOST`` and ``PORT``)."""
    parser.add_argument("--host", help="address to listen on (default: $HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: $PORT or 8000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT."""
    return serve(settings, args.host or settings.host, args.port or settings.port)


def serve(settings: Settings, host: str, port: int) -> int:
    """Run the API on ``host:port`` until stopped; in-flight requests finish first."""
    import uvicorn

    from service.app import create_app
    from service.server import GracefulServer
    from warehouse import tracing

    # The API samples at its request gate (service.middleware.tracing), before any span exists.
    tracing.setup(settings, "weather-warehouse-api", sampled_by_caller=True)

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        workers=1,
        loop="auto",  # uvloop when installed
        http="auto",  # httptools when installed
        lifespan="on",
        access_log=False,  # the app writes its own, with the request id
        log_config=None,  # keep warehouse.logs' one handler
        server_header=False,
        # The app applies X-Forwarded-* itself (service.middleware.forwarded), from the
        # same FORWARDED_ALLOW_IPS, once it knows whether the peer is trusted.
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = GracefulServer(config)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start
        return int(ExitCode.CONFIG) if exc.code else 0
    finally:
        tracing.shutdown()
    if not server.started:
        return int(ExitCode.CONFIG)
    log.info("API stopped")
    return 0
