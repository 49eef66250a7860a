"""The ASGI application factory: wires routers, middleware and error handling to a Runtime."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ringtrail import __version__
from ringtrail.jobs.runner import BackgroundJobs
from ringtrail.runtime import Runtime, bootstrap
from ringtrail.settings import Settings, get_settings
from ringtrail.web import health, recordings
from ringtrail.web.api.router import api_router
from ringtrail.web.api_docs import install_api_docs
from ringtrail.web.body_limit import BodySizeLimit
from ringtrail.web.dashboard.setup import install_dashboard
from ringtrail.web.errors import install_error_handlers
from ringtrail.web.hooks.router import hooks_router
from ringtrail.web.metrics import install_metrics
from ringtrail.web.tracking.router import tracking_router


def create_app(
    runtime: Runtime | None = None,
    settings: Settings | None = None,
    *,
    run_jobs: bool = False,
    freeze_gc: bool = False,
) -> FastAPI:
    """Build the app around `runtime` (or one bootstrapped from settings).

    With `run_jobs` the background jobs (recording fetches, retention) run in a thread for
    the app's lifetime; `serve` passes RINGTRAIL_RUN_JOBS, tests and embedders leave it off.
    With `freeze_gc` (`serve`), everything alive once the app has started (modules, routes,
    metadata, templates) is moved out of the cyclic garbage collector's reach
    (`gc.freeze()`): it lives as long as the process, and a full collection walking it
    paused report pages for 100 to 200 ms. Tests leave it off (they build many apps).
    """
    runtime = runtime or bootstrap(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs = BackgroundJobs(runtime) if run_jobs else None
        if jobs is not None:
            jobs.start()
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if jobs is not None:
                await asyncio.to_thread(jobs.stop)
            tracking = getattr(_app.state, "tracking_service", None)
            if tracking is not None:  # write the refusals still in memory
                await asyncio.to_thread(tracking.refusals.close)
        runtime.close()

    app = FastAPI(
        title="Ringtrail API",
        version=__version__,
        description="Call tracking and marketing analytics. Authenticate with "
        "`Authorization: Bearer <api key>`.",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs, without a CDN
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)

    # Routes are matched in order: the tracking script's calls, the hottest, come first.
    app.include_router(tracking_router)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(hooks_router)
    app.include_router(recordings.router)
    install_api_docs(app)
    install_dashboard(app, runtime)
    # Added late, so it is outside: bodies are limited before sessions or routes run.
    app.add_middleware(BodySizeLimit)
    # Outermost of all: every request is counted, refused bodies included.
    install_metrics(app, runtime)
    return app
