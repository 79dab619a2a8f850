# codekg's API server; docker-compose.yml runs it next to Neo4j, Qdrant and Kafka.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

# git: the history extractor shells out to it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

# Anything kept on disk (e.g. the embedded stores when no server is configured) lives here.
WORKDIR /data
RUN useradd --create-home --uid 10001 codekg && chown codekg /data
USER codekg

EXPOSE 8000
CMD ["kg", "serve", "--host", "0.0.0.0", "--port", "8000"]
