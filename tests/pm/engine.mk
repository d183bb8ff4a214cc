# SPDX-License-Identifier: GPL-2.0
# check-based unit tests of hvxd's PM negotiation engine (issue 7, host side).

UNIT_TESTS += $(BUILD)/tests/pm/test_pm_engine

$(BUILD)/tests/pm/test_pm_engine.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/pm
$(BUILD)/tests/pm/test_pm_engine: $(BUILD)/tests/pm/test_pm_engine.o \
		$(BUILD)/daemon/pm/pm_engine.o $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/pm/test_pm_qmp

$(BUILD)/tests/pm/test_pm_qmp.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/pm
$(BUILD)/tests/pm/test_pm_qmp: $(BUILD)/tests/pm/test_pm_qmp.o \
		$(BUILD)/daemon/pm/pm_qmp.o $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# PM negotiation across a real QEMU live migration (about 20 s): it takes
# /tmp/hvx-vm.lock itself for its QEMUs, and skips without QEMU or iasl.
HOST_TESTS += tests/pm/host_pm_migrate.sh
ifneq ($(SAN),1)
check-unit: $(BUILD)/hvxd $(BUILD)/hvxctl $(BUILD)/hvx-guest-agent-static
endif
