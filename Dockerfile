# fruit-pipeline runtime image: Debian bookworm, OpenJDK 17 JRE headless, /opt/venv (locked Python dependencies and
# the project; pyspark is SPARK_HOME=/opt/spark), the locked S3A and Delta Lake jars, tini, user/group 185.
# Build with image/build.sh (`make image`); by hand:
#   DOCKER_BUILDKIT=1 docker build --network host [--secret id=cabundle,src=/etc/ssl/certs/ca-certificates.crt] .
# No `# syntax=` line on purpose: the engine's built-in BuildKit frontend supports RUN --mount and needs no registry.
# The optional `cabundle` secret holds extra CA certificates (a TLS-intercepting proxy's) for the download steps
# only; a secret mount is never part of a layer.
ARG BASE_IMAGE=debian:bookworm-slim

# ---- os: the base plus the Python interpreter the venv is built against (shared by the venv and final stages)
FROM ${BASE_IMAGE} AS os
ARG DEBIAN_FRONTEND=noninteractive
COPY image/dpkg-excludes /etc/dpkg/dpkg.cfg.d/excludes
# Debian package versions follow the bookworm (security) pockets of the base image; the Python side is locked.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb

# ---- jars: the S3A and Delta Lake (delta-spark, delta-storage) jars of job/fruit_pipeline/resources/jars.lock,
#      sha256-checked; every locked jar lands in Spark's jars folder below (the job then fetches nothing)
FROM os AS jars
COPY image/fetch_jars.py /src/image/
COPY job/fruit_pipeline/jars_lock.py /src/job/fruit_pipeline/
COPY job/fruit_pipeline/resources/jars.lock /src/job/fruit_pipeline/resources/
RUN --mount=type=secret,id=cabundle \
    if [ -s /run/secrets/cabundle ]; then export SSL_CERT_FILE=/run/secrets/cabundle; \
    else export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt; fi \
    && python3 /src/image/fetch_jars.py /jars

# ---- venv: locked dependencies (image/requirements.lock, hashes required), then the project, then trimming
FROM os AS venv
ARG DEBIAN_FRONTEND=noninteractive
# Same reason as above (Debian versions follow the base image).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
COPY image/requirements.lock /src/image/requirements.lock
RUN --mount=type=secret,id=cabundle --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r /src/image/requirements.lock
COPY pyproject.toml README.md /src/
COPY job /src/job
RUN --mount=type=secret,id=cabundle --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/cabundle ]; then export PIP_CERT=/run/secrets/cabundle; fi \
    && /opt/venv/bin/pip install --no-deps /src
COPY --from=jars /jars/ /tmp/s3a-jars/
# Trimming, each part proven unnecessary by tests/image (the job in the image equals the local run, and the
# driver entrypoint runs it): pyspark examples/data/R/Windows scripts; jars of the Spark shell REPL (scala-compiler,
# spark-repl), the Spark Connect server, RocksDB (history server, external shuffle service DB, streaming state
# store) and Hive support (metastore, HiveServer2, Derby, DataNucleus; hive-storage-api stays for ORC); C++ headers
# and every package's `tests` directory; pip and setuptools (nothing is installed at run time).
RUN spark=$(echo /opt/venv/lib/python3.*/site-packages/pyspark) \
    && cp /tmp/s3a-jars/*.jar "$spark/jars/" \
    && rm -rf "$spark/examples" "$spark/data" "$spark/R" "$spark"/bin/*.cmd \
    && find "$spark/jars" \( -name 'rocksdbjni-*' -o -name 'scala-compiler-*' -o -name 'spark-repl_*' \
            -o -name 'spark-connect_*' -o -name 'spark-hive*' -o -name 'derby-*' -o -name 'datanucleus-*' \
            -o -name 'hive-*' \) ! -name 'hive-storage-api-*' -print -delete \
    && rm -rf /opt/venv/lib/python3.*/site-packages/pyarrow/include \
    && find /opt/venv/lib -depth -type d -name tests -path '*/site-packages/*/tests' -exec rm -rf {} + \
    && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools \
    && ln -s "$spark" /opt/venv/spark-home

# ---- final image: runtime packages only (no compilers, no pip, no build secrets)
FROM os
ARG DEBIAN_FRONTEND=noninteractive
# Same reason as above (Debian versions follow the base image). libnss-wrapper gives arbitrary UIDs a passwd entry.
# hadolint ignore=DL3008
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless tini libnss-wrapper procps \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
    && ln -s "$(dirname "$(dirname "$(readlink -f /usr/bin/java)")")" /opt/java \
    && groupadd --gid 185 spark \
    && useradd --uid 185 --gid 185 --home-dir /home/spark --create-home --shell /usr/sbin/nologin spark \
    && mkdir -p /opt/fruit-pipeline/work \
    && chown 185:0 /home/spark /opt/fruit-pipeline/work \
    && chmod 0775 /home/spark /opt/fruit-pipeline/work
COPY --from=venv /opt/venv /opt/venv
COPY job/run_job.py /opt/fruit-pipeline/run_job.py
COPY image/entrypoint.sh /opt/entrypoint.sh
RUN ln -s "$(readlink /opt/venv/spark-home)" /opt/spark
ENV PATH=/opt/venv/bin:$PATH \
    SPARK_HOME=/opt/spark \
    JAVA_HOME=/opt/java \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python \
    HOME=/home/spark \
    LANG=C.UTF-8
LABEL org.opencontainers.image.title="fruit-pipeline" \
      org.opencontainers.image.description="PySpark job: Fruits-360 images -> ORB, colour and reduced features" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /opt/fruit-pipeline/work
USER 185:185
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/entrypoint.sh"]
CMD ["fruit-pipeline", "--help"]
