# fruit-pipeline runtime image: Debian + JRE 17 + venv (/opt/venv) with pyspark as SPARK_HOME.
# Build: DOCKER_BUILDKIT=1 docker build --network host [--secret id=cabundle,src=CA.pem] -t fruit-pipeline:dev .
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
# Versions float with the Debian bookworm security pockets; the Python side is locked instead.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY job /src/job
# The optional secret carries an intercepting proxy's CA; it exists only during this step.
RUN --mount=type=secret,id=cabundle --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi \
    && python3 -m venv /opt/venv \
    && if [ -f /src/image/requirements.lock ]; then /opt/venv/bin/pip install -r /src/image/requirements.lock; fi \
    && /opt/venv/bin/pip install /src \
    && rm -rf /opt/venv/lib/python3.11/site-packages/pyspark/examples /opt/venv/lib/python3.11/site-packages/pyspark/R \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# Same reason as above: Debian package versions follow bookworm security updates.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3 openjdk-17-jre-headless tini procps \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd -g 185 spark && useradd -u 185 -g 185 -d /opt/fruit-pipeline -s /usr/sbin/nologin spark
COPY --from=build /opt/venv /opt/venv
COPY job/run_job.py /opt/fruit-pipeline/run_job.py
COPY image/entrypoint.sh /opt/entrypoint.sh
ENV PATH=/opt/venv/bin:$PATH \
    SPARK_HOME=/opt/venv/lib/python3.11/site-packages/pyspark \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
WORKDIR /opt/fruit-pipeline
USER 185:185
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "/opt/entrypoint.sh"]
