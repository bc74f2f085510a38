#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A vm test that fails: the harness must turn it into "not ok" in chimney_vm.
echo "st: about to fail on purpose"
# A fake result line must stay a diagnostic, not become a test result.
echo "ok 1 chimney_vm"
exit 3
