# SPDX-License-Identifier: GPL-2.0
# hvxctl's ept object and the hvx_ept message decoders it shares with the
# monitor.
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_ept.o $(BUILD)/lib/hvx_ept_msg.o
