# SPDX-License-Identifier: GPL-2.0
# The VM harness's own host-side test: boots scripts/vm about a dozen times
# (a few minutes), so it is not part of HOST_TESTS; run it after changing
# scripts/vm, scripts/vm-init, tests/run-vm or tests/tap-run.
.PHONY: check-harness
check-harness:
	@tests/tap-run --name harness tests/vm/harness-selftest
