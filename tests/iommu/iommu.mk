# SPDX-License-Identifier: GPL-2.0
# hvx_iommu: host unit tests of the translation core (built from the very
# source file the module uses), the in-VM test helpers, the QEMU capture
# check.

IOMMU_XLAT_OBJ := $(BUILD)/kmod/iommu/hvx_iommu_xlat.o

UNIT_TESTS += $(BUILD)/tests/iommu/test_iommu_xlat

$(BUILD)/tests/iommu/test_iommu_xlat.o: USER_CFLAGS += $(CHECK_CFLAGS) -Ikmod/iommu
$(BUILD)/tests/iommu/test_iommu_xlat: $(BUILD)/tests/iommu/test_iommu_xlat.o $(IOMMU_XLAT_OBJ)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# In-VM tests: one C program (netlink through lib/, VMs through the
# hvx_core test helpers) and shell scripts around hvxctl.
TEST_BINS += $(BUILD)/tests/vm_iommu

$(BUILD)/tests/vm_iommu: $(BUILD)/tests/iommu/vm_iommu.o \
		$(BUILD)/tests/core/hvx_test.o $(LIBHVX)
	@mkdir -p $(dir $@)
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBHVX) $(PKG_LIBS) -lpthread
