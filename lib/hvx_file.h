/* SPDX-License-Identifier: GPL-2.0 */
/* Small sysfs, procfs and debugfs files, read the way the kernel writes them. */
#ifndef HVX_FILE_H
#define HVX_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The first line of @path, without its newline, into @buf (at most
 * @size - 1 bytes; an empty file gives ""). 0 or -errno.
 */
int hvx_read_line(const char *path, char *buf, size_t size);

/*
 * A decimal number alone on the first line of @path. Values above
 * UINT32_MAX read as UINT32_MAX: cpuidle shows an unknown power as -1,
 * printed unsigned. 0, -errno, or -EINVAL for anything but digits.
 */
int hvx_read_u32(const char *path, uint32_t *v);

#endif /* HVX_FILE_H */
