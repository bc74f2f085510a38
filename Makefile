# SPDX-License-Identifier: GPL-2.0
#
# Convenience wrapper around Kbuild (see Documentation/kbuild/modules.rst):
# the build logic lives in Kbuild, the developer targets live here.

KDIR ?= /lib/modules/$(shell uname -r)/build
MAKEFLAGS += --no-print-directory

.PHONY: all modules modules_install clean help check demo lint bench

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
	@echo 'Kbuild help for external modules (needs KDIR) follows:'
	-@$(MAKE) -C $(KDIR) M=$(CURDIR) help
