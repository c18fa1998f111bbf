FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/twenty_minutes.sqlite3

RUN useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY content ./content
COPY migrations ./migrations
RUN pip install --no-cache-dir . && rm -rf /app/*

USER bot
WORKDIR /data
VOLUME ["/data"]
CMD ["python", "-m", "bot"]
