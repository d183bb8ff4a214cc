# SPDX-License-Identifier: GPL-2.0
# hvx_ept: view switch + re-touch against munmap + mmap + touch, in the VM.

BENCH_BINS += $(BUILD)/bench/ept/bench_ept

$(BUILD)/bench/ept/bench_ept.o: USER_CFLAGS += -Itests/ept
$(BUILD)/bench/ept/bench_ept: $(BUILD)/bench/ept/bench_ept.o \
		$(BUILD)/tests/ept/ept_test.o $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)
