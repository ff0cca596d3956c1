# gctk: the two commands a newcomer runs (as root, on Debian or Ubuntu):
#   make demo    install what is missing, build, run the main scenario
#   make check   install what the tests need, build, run every test
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 30
PREFIX ?= /usr

BUILD_DEPS = meson ninja-build pkg-config gcc libc6-dev libjansson-dev libyaml-dev libcmocka-dev
RUN_DEPS = runc busybox-static docker.io
TEST_DEPS = $(RUN_DEPS) jq docker-compose podman containerd clang valgrind

.PHONY: all build deps deps-test demo check unit install bench fuzz valgrind clean

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

# Every libFuzzer target for FUZZ_SECONDS seconds each on its seed corpus.
fuzz: deps
	$(call apt_install,clang)
	@[ -f $(BUILD_FUZZ)/build.ninja ] || CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false
	ninja -C $(BUILD_FUZZ)
	tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# The unit tests and the hook (on a runc container) under valgrind.
valgrind: build
	$(call apt_install,valgrind)
	tests/valgrind.sh $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
