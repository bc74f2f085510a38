# SPDX-License-Identifier: GPL-2.0
#
# Convenience wrapper around Kbuild (see Documentation/kbuild/modules.rst):
# the build logic lives in Kbuild, the developer targets live here.

KDIR ?= /lib/modules/$(shell uname -r)/build
MAKEFLAGS += --no-print-directory

.PHONY: all modules modules_install clean help check demo lint bench stress fuzz cycles

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# The one test command: static checks, then every suite in a QEMU VM running
# a debug kernel built from Debian's linux-source-6.12 (cached).
check:
	scripts/check.sh

# Boot a VM with the module and walk a scripted scenario.
demo:
	scripts/demo.sh

lint:
	scripts/lint.sh

# The README's figures (issue 10), each against a kernel baseline measured in
# the same VM run on the non-debug kernel; BENCH_SCALE=small is the bounded form.
bench:
	scripts/bench.sh

# Issue 11's long forms, one VM on the debug kernel each:
# make stress STRESS_SECONDS=3600, make fuzz FUZZ_WRITES=2000000,
# make cycles UNLOAD_CYCLES=1000 (SEED=N replays a run).
STRESS_SECONDS ?= 60
FUZZ_WRITES ?= 100000
UNLOAD_CYCLES ?= 100
export STRESS_SECONDS FUZZ_WRITES UNLOAD_CYCLES
stress:
	scripts/stress.sh churn
fuzz:
	scripts/stress.sh fuzz
cycles:
	scripts/stress.sh cycles

help:
	@echo 'chimney targets:'
	@echo '  all / modules    build module/chimney.ko (and kunit/chimney_test.ko if'
	@echo '                   the kernel has CONFIG_KUNIT) against KDIR=$(KDIR)'
	@echo '  modules_install  install into /lib/modules/<release>/extra'
	@echo '  clean            remove build products'
	@echo '  check            static checks + all tests in a QEMU debug kernel'
	@echo '  demo             boot a VM and walk a scripted chimney scenario'
	@echo '  lint             checkpatch, sparse, W=1 and kernel-doc only'
	@echo '  bench            the figures of issue 10 against kernel baselines (README)'
	@echo '  stress           concurrent churn with invariants, STRESS_SECONDS=60'
	@echo '  fuzz             the fuzzer of every writable file, FUZZ_WRITES=100000'
	@echo '  cycles           insmod/rmmod cycles under fire, UNLOAD_CYCLES=100'
	@echo 'Kbuild help for external modules (needs KDIR) follows:'
	-@$(MAKE) -C $(KDIR) M=$(CURDIR) help
