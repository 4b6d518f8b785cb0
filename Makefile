# SPDX-License-Identifier: GPL-2.0
#
# iommu-resv: IOMMU reserved-region reporting for Linux 6.12, as an overlay
# of new files plus glue patches (patches/series), assembled into a kernel
# git tree under $(OUT), built for x86_64 and arm64 and tested in QEMU.
#
#   make run      set up, build both arches, boot, show groups and regions
#   make check    everything the project tests; last line "N passed, N failed"
#   make vm ARCH=x86_64|arm64 RUN=path [BASELINE=1] [FIRMWARE=acpi] [QEMU_EXTRA='...']
#   make baseline the same tests on the unpatched base (= make check BASELINE=1)
#   make series   the mailable series, one per topic, in $(OUT)/series/
#   make check-bisect  build every prefix of the series, both arches (long)
#   make check-topics  only the topic proof of make check (each topic with the ones before it)
#   make tool     tools/iommu/iommu-resv for this machine, in $(OUT)/tool/
#   make bench [ARCH=x86_64] [TRIALS=5] [ICOUNT=1] [BIG=0]  patched vs unpatched, in $(OUT)/bench/
#   make stress [STRESS_SECONDS=120] [FUZZ_CALLS=200000] [FUZZ_SEED=1]  debug kernels
#
# Variables: ARCH (default: both), OUT (default: out), BASELINE=1, DEBUG=1,
# QUICK=1 (check: build, boot and tests only), KERNEL_SRC=/path/to/linux-6.12.y,
# QEMU_EXTRA, RUN, BOOT_TIMEOUT (seconds), BOOT_BEGIN_TIMEOUT (seconds for a
# test VM's init to begin), FIRMWARE (vm, arm64: dt or acpi).
# Help lines above are printed by 'make help'.

OUT ?= $(CURDIR)/out
H := tools/testing/iommu-resv
ARCHES := $(shell awk '/^[a-z]/ && $$2 == "qemu" && NF > 2 { print $$1 }' $(H)/arches.conf)

# Bad input gets one clear line, before any work starts.
ifneq ($(filter-out $(ARCHES),$(ARCH)),)
$(error unknown ARCH '$(ARCH)': use x86_64 or arm64 (or leave it unset for both))
endif
ifneq ($(words $(ARCH)),$(filter 0 1,$(words $(ARCH))))
$(error ARCH takes one arch: x86_64 or arm64)
endif
ifdef KERNEL_SRC
ifeq ($(wildcard $(KERNEL_SRC)/Makefile),)
$(error KERNEL_SRC=$(KERNEL_SRC) is not a kernel source tree)
endif
endif

export OUT ARCH BASELINE DEBUG QUICK KERNEL_SRC QEMU_EXTRA RUN BOOT_TIMEOUT BOOT_BEGIN_TIMEOUT FIRMWARE TRIALS ICOUNT BIG
export STRESS_SECONDS FUZZ_CALLS FUZZ_SEED

.PHONY: all run check baseline vm build deps tree clean distclean help series check-bisect check-topics tool bench stress
all: help

help:
	@sed -n '3,21s/^# \{0,1\}//p' Makefile

run:
	@$(H)/harness.sh run

check:
	@$(H)/harness.sh check

baseline:
	@BASELINE=1 $(H)/harness.sh check

vm:
	@$(H)/harness.sh vm

build:
	@$(H)/harness.sh build

deps:
	@$(H)/deps.sh $(OUT)

series: tree
	@$(H)/series.sh $(OUT) $(OUT)/series

check-topics:
	@$(H)/harness.sh check-topics

check-bisect: tree
	@$(H)/check-bisect.sh $(OUT) $(ARCH)

bench: deps tree
	@ARCH=$(or $(ARCH),x86_64) $(H)/bench.sh

stress:
	@$(H)/harness.sh stress

# With the assembled tree's UAPI headers, for "iommu-resv query"; built by its
# own Makefile in $(OUT)/tool
tool: tree
	@mkdir -p $(OUT)/tool
	@$(MAKE) -s -C $(OUT)/patched/src O=$(OUT)/tool/obj headers_install \
		ARCH=$(patsubst aarch64,arm64,$(shell uname -m)) INSTALL_HDR_PATH=$(OUT)/tool/hdr
	$(MAKE) --no-print-directory -B -C $(OUT)/tool -f $(CURDIR)/tools/iommu/Makefile \
		VPATH=$(CURDIR)/tools/iommu KHDR_INCLUDES="-isystem $(OUT)/tool/hdr/include" iommu-resv

tree: deps
	@$(H)/assemble.sh $(CURDIR) $(OUT)

# Build outputs only; the assembled trees and ccache stay (they are slow to make).
clean:
	rm -rf $(OUT)/patched/build $(OUT)/base/build $(OUT)/guest $(OUT)/logs \
		$(OUT)/topic/build $(OUT)/topic/steps $(OUT)/results.txt $(OUT)/phases.txt

distclean:
	rm -rf $(OUT)
