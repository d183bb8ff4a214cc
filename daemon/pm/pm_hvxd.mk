# SPDX-License-Identifier: GPL-2.0
# hvxd's side of PM negotiation: the engine, the QMP watcher and the unit
# join hvxd's link, `hvxctl pm` joins hvxctl's (their recipes link every .o
# prerequisite). Included after pm.mk, whose PM_HOST_OBJS it uses.

PM_HVXD_OBJS := $(BUILD)/daemon/pm/pm_engine.o $(BUILD)/daemon/pm/pm_qmp.o

$(BUILD)/daemon/pm/pm_unit.o: USER_CFLAGS += -Idaemon/hvxd
$(BUILD)/hvxd: $(BUILD)/daemon/pm/pm_unit.o $(PM_HVXD_OBJS) $(PM_HOST_OBJS)
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_pm.o
