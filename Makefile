# gctk: the two commands a newcomer runs (as root, on Debian or Ubuntu):
#   make demo    install what is missing, build, run the main scenario
#   make check   install what the tests need, build, run every test
BUILD ?= build
BUILD_ASAN ?= build-asan
PREFIX ?= /usr

BUILD_DEPS = meson ninja-build pkg-config gcc libc6-dev libjansson-dev libyaml-dev libcmocka-dev
# demo/run.sh: a private dockerd (docker.io, its containerd and runc), Compose
# 1.29 (docker-compose), an image made from busybox-static, jq
RUN_DEPS = runc busybox-static docker.io containerd docker-compose jq
TEST_DEPS = $(RUN_DEPS) podman clang

.PHONY: all build deps deps-test demo check unit install bench fuzz clean

all: build

# Installs the Debian packages that are missing (apt-get only when needed).
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "gctk: run as root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

deps-test: deps
	$(call apt_install,$(TEST_DEPS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	$(call apt_install,$(RUN_DEPS))
	./demo/run.sh $(BUILD)

check: deps-test build
	tests/run-all $(BUILD) $(BUILD_ASAN)

unit: build
	tests/run-all --unit-only $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
