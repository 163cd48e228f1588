# The gateway as a container image. Configuration is by environment only (see
# docs/operations.md); without TALENTLMS_* it serves the embedded simulator's demo data.

# --- build: install the package and its dependencies into a virtual environment ---------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY schema ./schema
RUN /opt/venv/bin/pip install .

# --- runtime: the virtual environment only, run by an unprivileged user -----------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LMS_GATEWAY_PORT=8000
USER 10001:10001
EXPOSE 8000
# slim has no curl: the check is the Python standard library. Any answer but 2xx, or none
# within the timeout, fails it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LMS_GATEWAY_PORT', '8000'), timeout=4)" || exit 1
# uvicorn finishes in-flight requests on SIGTERM (Docker's stop signal) within
# LMS_GATEWAY_SHUTDOWN_TIMEOUT_SECONDS; give `docker stop` at least that (--time 30).
CMD ["lms-gateway", "serve", "--host", "0.0.0.0"]
