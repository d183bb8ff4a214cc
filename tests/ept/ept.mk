# SPDX-License-Identifier: GPL-2.0
# hvx_ept: host unit tests of the EPT format core (the module's own
# kmod/ept/hvx_ept_fmt.c, built for the host) and the in-VM test helpers.

EPT_CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
EPT_CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

UNIT_TESTS += $(BUILD)/tests/ept/test_ept_fmt

$(BUILD)/tests/ept/test_ept_fmt.o $(BUILD)/kmod/ept/hvx_ept_fmt.o: \
	USER_CFLAGS += $(EPT_CHECK_CFLAGS) -Ikmod/ept
$(BUILD)/tests/ept/test_ept_fmt: $(BUILD)/tests/ept/test_ept_fmt.o \
		$(BUILD)/kmod/ept/hvx_ept_fmt.o
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(EPT_CHECK_LIBS)
