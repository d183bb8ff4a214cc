# SPDX-License-Identifier: GPL-2.0
# hvx_core in-VM tests: C programs on libnl-genl, run by tests/run-vm.
CORE_TESTS := vm_core_nl vm_core_mem vm_core_dump vm_core_mod
TEST_BINS += $(addprefix $(BUILD)/tests/,$(CORE_TESTS))

$(BUILD)/tests/vm_core_%: $(BUILD)/tests/core/vm_core_%.o \
		$(BUILD)/tests/core/hvx_test.o
	@mkdir -p $(dir $@)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
