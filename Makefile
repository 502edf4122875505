# The two commands of the README: `make workshop` (the main job) and `make test`.
# Both install what they need on a Debian machine first.

SWIFT ?= swift
APT_PACKAGES := python3 curl openssh-client libsqlite3-dev libcurl4-openssl-dev libxml2-dev zlib1g-dev qemu-utils fdisk e2fsprogs dosfstools xfsprogs ntfs-3g hyperfine qemu-system-x86 linux-image-amd64 busybox-static grub-pc-bin kmod mmdebstrap
PIP_PACKAGES := 'moto[server]==5.2.1' 'boto3==1.43.11'

.PHONY: workshop test deps build agent agent-build bench clean

# Installs the Debian (and Python) packages that are missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if [ -n "$(PIP_PACKAGES)" ]; then python3 -m pip install -q $(PIP_PACKAGES); fi

build: deps
	$(SWIFT) build

# The agent that runs on source machines: the Swift runtime linked in, so that a machine
# without Swift runs it; release and stripped, since it crosses the network to each machine.
# The replication server hands it out from here (see `ferry agent token`).
agent: deps agent-build
agent-build:
	$(SWIFT) build -c release --product ferry-agent --static-swift-stdlib --scratch-path .build-agent -Xlinker -s

workshop: build agent
	$$($(SWIFT) build --show-bin-path)/ferry workshop --yes

# One test at a time. The engine's and the adapters' blocking work now runs off Swift's
# cooperative pool, but many tests still block it themselves (they run the ferry executable,
# moto and QEMU and wait for them synchronously), and run in parallel on a 2-core machine
# they starve the networked tests of threads until their timeouts fire. Measured on 2 cores:
# parallel 230 s with 8 failures and 146 s with 4 (a replication server's handshake unanswered, a TCP
# timeout test waiting 69 s), serial 472 s, all passing.
# Line-buffered (stdbuf): a log read from a pipe shows the test that runs now, not the one
# a 4 KiB buffer ago.
# The release agent and the debug tests build side by side: each has long single-threaded
# stretches (whole-module optimisation, linking) that leave the other core idle.
test: deps
	$(SWIFT) package resolve
	@$(MAKE) --no-print-directory agent-build & agent=$$!; \
	  $(SWIFT) build --build-tests; built=$$?; \
	  wait $$agent && test $$built = 0
	stdbuf -oL -eL $(SWIFT) test --skip-build --no-parallel

# Benchmarks: each against a named peer in the same run. Not part of `make test`.
BENCH_APT_PACKAGES := rsync time hyperfine qemu-utils qemu-system-common curl mount e2fsprogs util-linux
bench: deps agent-build
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; fi
	$(SWIFT) build -c release
	bash bench/replication.sh
	bash bench/ebs-upload/bench.sh
	bash bench/disk-read.sh
	bash bench/plugin-read.sh
	bash bench/guest-images.sh
	bash bench/conversion.sh
	bash bench/agent-idle.sh
	bash bench/agent-tracking.sh
	bash bench/agent-hypervisor.sh
	bash bench/agent-in-guest.sh

clean:
	rm -rf .build .build-agent
