# SPDX-License-Identifier: GPL-2.0
# hvxctl's poll object.
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_poll.o
