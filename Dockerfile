# connector-host: a slim image running as a non-root user, with a liveness HEALTHCHECK.
#   docker build -t connector-host .                       (add --build-arg EXTRAS=otel for tracing)
#   docker run -p 8080:8080 -e CTP_CLIENT_ID=... -e CTP_CLIENT_SECRET=... connector-host
# The image serves deploy/connector.yaml unless CONNECTOR_CONFIG names another file (mount it).
# docs/deploy.md: compose, Kubernetes, probes, sizing.

FROM python:3.11-slim AS build
ARG EXTRAS=""
WORKDIR /src
COPY pyproject.toml README.md ./
COPY host ./host
COPY plugins ./plugins
COPY emulator ./emulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".${EXTRAS:+[$EXTRAS]}"

FROM python:3.11-slim
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONNECTOR_CONFIG=/etc/connector-host/connector.yaml
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "connector-host${EXTRAS:+[$EXTRAS]}" \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin connector
COPY deploy/connector.yaml /etc/connector-host/connector.yaml
USER 10001
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=2)"]
ENTRYPOINT ["connector-host"]
CMD ["serve"]
