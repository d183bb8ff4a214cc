# SPDX-License-Identifier: GPL-2.0
# hvx_ept: host unit tests of the EPT format core (the module's own
# kmod/ept/hvx_ept_fmt.c, built for the host) and the in-VM test helpers.

UNIT_TESTS += $(BUILD)/tests/ept/test_ept_fmt

$(BUILD)/tests/ept/test_ept_fmt.o $(BUILD)/kmod/ept/hvx_ept_fmt.o: \
	USER_CFLAGS += $(CHECK_CFLAGS) -Ikmod/ept
$(BUILD)/tests/ept/test_ept_fmt: $(BUILD)/tests/ept/test_ept_fmt.o \
		$(BUILD)/kmod/ept/hvx_ept_fmt.o
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# In-VM tests: C programs on libhvx's netlink helpers, TAP from
# tests/core/hvx_test.c.
EPT_TESTS := vm_ept_views vm_ept_nl vm_ept_kvm
TEST_BINS += $(addprefix $(BUILD)/tests/,$(EPT_TESTS))

$(BUILD)/tests/vm_ept_%: $(BUILD)/tests/ept/vm_ept_%.o \
		$(BUILD)/tests/ept/ept_test.o $(BUILD)/tests/core/hvx_test.o \
		$(BUILD)/lib/libhvx.a
	@mkdir -p $(dir $@)
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)

$(BUILD)/tests/ept/vm_ept_%.o $(BUILD)/tests/ept/ept_test.o: \
	USER_CFLAGS += -Itests/core
