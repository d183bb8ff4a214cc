# SPDX-License-Identifier: GPL-2.0
# hvxctl iommu: the hvx_iommu object (maps and stats).

$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_iommu.o
