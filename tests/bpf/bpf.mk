# SPDX-License-Identifier: GPL-2.0
# Host unit tests of the BPF tools' userspace (the in-VM test is vm_rxlat.sh).

UNIT_TESTS += $(BUILD)/tests/bpf/test_hist

$(BUILD)/tests/bpf/test_hist.o: USER_CFLAGS += $(CHECK_CFLAGS) -Ibpf
$(BUILD)/tests/bpf/test_hist: $(BUILD)/tests/bpf/test_hist.o $(BUILD)/bpf/hist.o \
		$(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
