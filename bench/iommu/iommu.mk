# SPDX-License-Identifier: GPL-2.0
# hvx_iommu benchmarks: the translation core on the host (same source file
# as the module), and ring path vs trap baseline in the VM.

BENCH_BINS += $(BUILD)/bench/iommu/bench_iommu_xlat

$(BUILD)/bench/iommu/bench_iommu_xlat.o: USER_CFLAGS += -Ikmod/iommu
$(BUILD)/bench/iommu/bench_iommu_xlat: $(BUILD)/bench/iommu/bench_iommu_xlat.o $(BUILD)/kmod/iommu/hvx_iommu_xlat.o
	$(CC) $(USER_LDFLAGS) -o $@ $^

# In the VM (needs hvx_core and hvx_iommu loaded): ring path vs trap
# baseline. VMs come from the hvx_core test helpers, maps go through lib/.
BENCH_BINS += $(BUILD)/bench/iommu/bench_iommu_ring

$(BUILD)/bench/iommu/bench_iommu_ring: $(BUILD)/bench/iommu/bench_iommu_ring.o \
		$(BUILD)/tests/core/hvx_test.o $(LIBHVX)
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBHVX) $(PKG_LIBS) -lpthread
