/* SPDX-License-Identifier: MIT */
/* The CLI's lowest layer: exit codes, the one error line, small file
 * reads. Every other CLI file may call it; it calls nothing of the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "io.h"
#include "keystore.h"
#include "util.h"

int cli_exit_code(int err)
{
	switch (err < 0 ? -err : err) {
	case EINVAL:
	case EFBIG:
	case E2BIG: return CLI_EUSAGE;
	case ENOENT: return CLI_ENOTFOUND;
	case EEXIST: return CLI_EEXIST;
	case EACCES:
	case EPERM:
	case EKEYREJECTED:
	case ENOTTY:
	case EXDEV: return CLI_EKEY;
	case EBADMSG:
	case EPROTONOSUPPORT: return CLI_ECORRUPT;
	case ENOKEY:
	case ETIME:
	case EUCLEAN:
	case EALREADY: return CLI_ECORRUPT;
	case ESTALE: return CLI_ECONFLICT;
	case ECONNREFUSED:
	case ENOTCONN:
	case ECONNRESET:
	case ETIMEDOUT: return CLI_EAGENT;
	default: return CLI_EIO;
	}
}

int cli_fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("keyhole: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", ks_strerror(err));
	return cli_exit_code(err);
}

int cli_read_small_file(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	cleanup_close int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t have = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = io_read_some(fd, buf + have, cap + 1 - have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > cap)
			return -EFBIG;
	}
	buf[have] = '\0';
	*ret = steal_pointer(&buf);
	*ret_len = have;
	return 0;
}
