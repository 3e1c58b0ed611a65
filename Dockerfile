# tieout API / worker image: slim Python 3.11, dependencies installed by uv from the lock file,
# runs as an unprivileged user. The same image serves `tieout serve` and `tieout worker`.
FROM python:3.11-slim AS build

ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /app
# Dependencies first, so code changes do not invalidate this layer.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY alembic ./alembic
COPY alembic.ini ./
RUN uv sync --frozen --no-dev


FROM python:3.11-slim

ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TIEOUT_ENV=production \
    TIEOUT_HOST=0.0.0.0 \
    TIEOUT_PORT=8000 \
    TIEOUT_DATA_DIR=/data

# opencv-python (pulled in by rapidocr for OCR) needs libGL and glib at import time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system tieout && useradd --system --gid tieout --home-dir /app tieout \
    && mkdir -p /data && chown tieout:tieout /data
WORKDIR /app
COPY --from=build --chown=tieout:tieout /app /app
USER tieout

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('TIEOUT_PORT', '8000')}/health\", timeout=2)"]

CMD ["tieout", "serve"]
