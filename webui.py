"""Start the web UI: parse flags, build the app, serve it (see ``python webui.py --help``)."""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Entry point used by ``launch.py``, ``webui.sh`` and ``webui.bat``."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from modules.interfaces import cli

    options = cli.parse(sys.argv[1:] if argv is None else argv, os.environ,
                        install_dir=Path(__file__).resolve().parent)
    logging.basicConfig(level=(options.loglevel or "INFO").upper(), format="%(levelname)s %(name)s: %(message)s")
    for flag in options.unknown_args:
        logging.warning("Ignoring unknown command-line argument: %s", flag)
    check_access(options, ui=not options.nowebui)
    from modules import bootstrap  # heavy imports (torch, diffusers) only after --help has been handled
    import uvicorn

    ctx = bootstrap.create_context(options)
    from modules.interfaces.console_progress import ConsoleProgress
    ctx.progress.listen(ConsoleProgress())
    app = bootstrap.create_app(ctx, api=options.api or options.nowebui, ui=not options.nowebui, options=options)
    bootstrap.load_initial_model(ctx, options)
    if not options.no_hashing:
        ctx.addons.start_background_hashing()  # LoRA/VAE/embedding hashes for infotext, off the request path
    config = uvicorn.Config(app, host=options.bind_host, port=options.effective_port, log_level="warning",
                            timeout_keep_alive=options.timeout_keep_alive or 30)
    server = uvicorn.Server(config)
    shown_host = "127.0.0.1" if options.bind_host in ("0.0.0.0", "127.0.0.1") else options.bind_host
    threading.Thread(target=_announce, args=(server, f"http://{shown_host}:{options.effective_port}"),
                     daemon=True).start()
    server.run()
    return 0


def check_access(options, *, ui: bool) -> None:
    """Exit on an unreadable --gradio-auth-path; warn loudly when reachable from the network without a login."""
    from modules.interfaces import credentials

    try:
        warnings = credentials.exposure_warnings(options, ui=ui)
    except credentials.CredentialError as exc:
        sys.exit(f"webui: error: {exc}")
    for text in warnings:
        logging.warning(text)


def _announce(server, url: str) -> None:
    """Print A1111's start-up line once the socket is really listening."""
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        print(f"Running on local URL:  {url}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
