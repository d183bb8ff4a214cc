# SPDX-License-Identifier: GPL-2.0
# PM negotiation benchmark (issue 7): bench_pm plays N agents against a
# running hvxd; bench/pm/bench_pm.sh starts hvxd and prints the table.
# (bench/ is included before daemon/: name the codec object itself.)

BENCH_BINS += $(BUILD)/bench/pm/bench_pm

$(BUILD)/bench/pm/bench_pm.o: USER_CFLAGS += -Idaemon/pm
$(BUILD)/bench/pm/bench_pm: $(BUILD)/bench/pm/bench_pm.o $(BUILD)/daemon/pm/pm_proto.o \
		$(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS)
