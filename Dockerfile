# diplo: the same two steps as the README's run command, as a non-root user.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 diplo && mkdir /data && chown diplo /data
WORKDIR /home/diplo/app
COPY --chown=diplo . .
USER diplo

RUN python3 -m venv .venv && .venv/bin/pip install -q --no-compile -e .
# Byte-compile what the server imports, once, into the image (the install compiled nothing).
RUN .venv/bin/python -c "import diplo.service.server, diplo.service.cli"

ENV DIPLO_DB=/data/diplo.db \
    DIPLO_HOST=0.0.0.0 \
    DIPLO_PORT=8000 \
    DIPLO_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD [".venv/bin/diplo", "serve"]
