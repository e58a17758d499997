# fruit-pipeline: `make run` (job on a generated sample) and `make test` (whole suite) do all set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE ?= data/sample
OUT ?= out
EVENTS ?= spark-events
HISTORY_PORT ?= 18080
SAMPLE_ARGS ?= --classes 5 --per-class 80
RUN_ARGS ?=
PYTEST_ARGS ?=
BENCH_ARGS ?= --images 20000 --cores 2 --scaling 5000,20000,50000,100000
BENCH_QUICK_ARGS ?= --images 2000 --cores 2 --scaling 1000,2000

.PHONY: help venv dev sample run history test test-core test-unit system-deps helm bench bench-quick image manifests cluster-test k8s-deps k8s-test clean

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/fruit-pipeline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

venv: $(BIN)/fruit-pipeline ## create .venv with the job installed

$(VENV)/.test-deps: $(BIN)/fruit-pipeline
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

dev: $(VENV)/.test-deps ## .venv with the test dependencies

$(VENV)/.bench-deps: $(VENV)/.test-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

$(SAMPLE).complete: | $(BIN)/fruit-pipeline
	rm -rf $(SAMPLE)
	$(BIN)/fruit-pipeline sample --out $(SAMPLE) $(SAMPLE_ARGS)
	@touch $@

sample: $(SAMPLE).complete ## generate the synthetic sample bank (not committed)

run: $(BIN)/fruit-pipeline $(SAMPLE).complete ## run the job on the sample bank -> $(OUT)/
	$(BIN)/fruit-pipeline run --input $(SAMPLE) --output $(OUT) $(RUN_ARGS)

history: $(BIN)/fruit-pipeline ## Spark History Server over the runs' event logs ($(EVENTS), next to $(OUT)) on 127.0.0.1:$(HISTORY_PORT)
	$(BIN)/fruit-pipeline history --dir $(EVENTS) --host 127.0.0.1 --port $(HISTORY_PORT)

system-deps: ## Docker engine, Prometheus, Pushgateway, debootstrap, shellcheck (needs root or sudo)
	bash tests/infra/install-system-deps.sh

helm: ## helm CLI (go install) -> .cache/bin/helm
	bash tests/infra/install-helm.sh

manifests: helm ## render k8s/kind and k8s/eks manifests from the chart (committed; a test checks drift)
	bash k8s/render-manifests.sh

image: ## build the container image fruit-pipeline:dev (IMAGE_TAG=..., BASE_IMAGE=...; see README "Container image")
	bash image/build.sh

jars: ## hadoop-aws + AWS SDK jars (job/fruit_pipeline/resources/jars.lock, sha256-checked) -> .cache/jars
	python3 image/fetch_jars.py .cache/jars

test: test-core k8s-test ## install and build everything, run the whole suite: test-core, then the local Kubernetes tests

test-core: $(VENV)/.test-deps $(VENV)/.bench-deps system-deps jars helm ## the suite without the local Kubernetes (Spark, S3, Prometheus, Docker, cluster, Helm, EMR)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

cluster-test: $(VENV)/.test-deps system-deps jars ## Spark standalone cluster of image containers: clean, worker-lost, driver-lost runs
	$(BIN)/python -m pytest tests/cluster $(PYTEST_ARGS)

k8s-deps: $(VENV)/.test-deps system-deps helm ## local Kubernetes: Debian packages, Kubernetes/spark-operator/CoreDNS builds (cached in .cache/)
	bash tests/k8s/install-system-deps.sh
	bash tests/k8s/build-kubernetes.sh
	bash tests/k8s/build-etcd.sh
	bash tests/k8s/build-spark-operator.sh
	bash tests/k8s/build-coredns.sh

k8s-test: k8s-deps ## single-node Kubernetes of host processes + spark-operator: chart/manifests to COMPLETED, pods deleted mid-run (root)
	K8S_TEST=1 $(BIN)/python -m pytest tests/k8s -p no:cacheprovider $(PYTEST_ARGS)

test-unit: $(VENV)/.test-deps $(VENV)/.bench-deps ## pure-Python tests only (no Spark, no services)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

bench: $(VENV)/.test-deps $(VENV)/.bench-deps jars ## benchmark: raw loop vs seed-style vs ours (disk + SeaweedFS) vs Ray Data and Daft, 20k images + scaling to 100k -> benchmarks/results/
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-quick: $(VENV)/.test-deps $(VENV)/.bench-deps jars ## the same benchmark on 2k images (a few minutes; results not representative)
	$(BIN)/python -m benchmarks.run $(BENCH_QUICK_ARGS) --results .cache/bench/results-quick

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf data out spark-events .pytest_cache
