/* SPDX-License-Identifier: MIT */
/* Plain main() for fuzz harnesses built with gcc (no libFuzzer): feeds each
 * file named on the command line to LLVMFuzzerTestOneInput, so the committed
 * corpora replay on every `make test`. Exits non-zero if a file cannot be
 * read; a crash or a failed FUZZ_CHECK aborts the process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX (4u << 20) /* larger than any harness input cap */

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_MAX) {
		close(fd);
		return -EINVAL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	/* Exact-size allocation so an over-read is caught under ASan. */
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			close(fd);
			return r < 0 ? -errno : -EIO;
		}
		got += (size_t)r;
	}
	close(fd);
	*ret = buf;
	*ret_len = n;
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		uint8_t *buf;
		size_t len;
		int r = read_file(argv[i], &buf, &len);
		if (r < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(-r));
			bad = 1;
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return bad;
}
