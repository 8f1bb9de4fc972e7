/* SPDX-License-Identifier: MIT */
/* Whole reads and writes over fds with EINTR/short-count handling
 * (OpenSSH atomicio.c). Return 0 or -errno; read_all returns -EPIPE on EOF
 * before the requested count. */
#ifndef KH_IO_H
#define KH_IO_H

#include <stddef.h>
#include <sys/types.h>

int io_write_all(int fd, const void *buf, size_t len);
int io_read_all(int fd, void *buf, size_t len);
/* One read() that retries on EINTR. Returns bytes read (0 = EOF) or -errno. */
ssize_t io_read_some(int fd, void *buf, size_t len);

#endif
