"""Serving with several worker processes, each on its own listening socket (SO_REUSEPORT),
so the kernel spreads new connections evenly over them.

uvicorn's own ``--workers`` shares one socket between the processes, and whichever process
wakes first takes the next connection: under a load generator's 16 keep-alive connections
one process took all 16 and the other none (measured in ``benchmarks/api.py``: half the
machine idle). With a socket each, the kernel hashes each connection to one of them.

The supervisor starts the workers, restarts one that dies, and on SIGINT or SIGTERM stops
them all (each finishes its open requests, as uvicorn does).
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

APP = "twoorl.app:app_from_environment"
RESTART_PAUSE_SECONDS = 1.0
# The young generation is collected after this many new objects instead of 700: a page makes
# thousands, and each collection scanned them while requests waited (p99 spikes).
GC_THRESHOLDS = (50_000, 20, 20)


def tune_collector() -> None:
    """For a serving process: what start-up imported lives as long as the process, so keep it
    out of every full collection's scan (``gc.freeze``), and collect less often."""
    import twoorl.app  # noqa: F401  (everything a worker imports, before freezing it)

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_worker(host: str, port: int, options: dict[str, Any]) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    import uvicorn

    tune_collector()
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve_balanced(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run ``workers`` processes until SIGINT or SIGTERM, restarting any that dies."""
    # The port is taken here first, so a port in use fails at once, before any worker.
    probe = listening_socket(host, port)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=run_worker, args=(host, port, options), daemon=False)
        process.start()
        return process

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    processes = [start() for _ in range(workers)]
    probe.close()  # the workers hold the port now
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    time.sleep(RESTART_PAUSE_SECONDS)  # a worker that dies at once: no spin
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes open requests, then exits
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
