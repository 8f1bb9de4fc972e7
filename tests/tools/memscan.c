/* SPDX-License-Identifier: MIT */
/* Looks for byte strings in another process's memory, for the shim's
 * "no value held between rotations" test. Needs root (or ptrace rights).
 *   memscan PID STRING...
 * Reads every readable mapping in /proc/PID/maps through /proc/PID/mem and
 * prints "STRING hits=N" per string. Exit 0 when no string was found, 1
 * when one was, 2 when the process could not be read at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static size_t count_in(const unsigned char *buf, size_t n, const char *s)
{
	size_t l = strlen(s), hits = 0;
	for (size_t i = 0; l && i + l <= n; i++)
		if (buf[i] == (unsigned char)s[0] && !memcmp(buf + i, s, l))
			hits++;
	return hits;
}

int main(int argc, char **argv)
{
	char path[64], line[512];
	if (argc < 3) {
		fprintf(stderr, "usage: memscan PID STRING...\n");
		return 2;
	}
	snprintf(path, sizeof path, "/proc/%s/maps", argv[1]);
	FILE *maps = fopen(path, "r");
	snprintf(path, sizeof path, "/proc/%s/mem", argv[1]);
	int mem = open(path, O_RDONLY | O_CLOEXEC);
	size_t *hits = calloc((size_t)argc, sizeof *hits);
	unsigned char *buf = malloc(CHUNK + 4096);
	if (!maps || mem < 0 || !hits || !buf) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	size_t regions = 0;
	while (fgets(line, sizeof line, maps)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
		    strstr(line, "[vvar") || strstr(line, "[vsyscall]"))
			continue;
		regions++;
		/* Overlap chunks by 4 KiB so a string across a boundary is seen
		 * (strings here are short). */
		for (unsigned long a = lo; a < hi; a += CHUNK) {
			size_t want = hi - a > CHUNK + 4096 ? CHUNK + 4096 : hi - a;
			ssize_t n = pread(mem, buf, want, (off_t)a);
			if (n <= 0)
				break;
			for (int i = 2; i < argc; i++) {
				size_t h = count_in(
					buf, (size_t)n > CHUNK ? CHUNK + 256 : (size_t)n, argv[i]);
				if (h)
					printf("# %s in %s", argv[i], line);
				hits[i] += h;
			}
		}
	}
	int found = 0;
	for (int i = 2; i < argc; i++) {
		printf("%s hits=%zu\n", argv[i], hits[i]);
		found |= hits[i] > 0;
	}
	printf("regions=%zu\n", regions);
	free(buf);
	free(hits);
	close(mem);
	fclose(maps);
	return regions ? found : 2;
}
