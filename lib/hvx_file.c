// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvx_file.h"

int hvx_read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int hvx_read_u32(const char *path, uint32_t *v)
{
	char buf[32], *end;
	unsigned long long x;
	int ret = hvx_read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	*v = x > UINT32_MAX ? UINT32_MAX : x;
	return 0;
}
