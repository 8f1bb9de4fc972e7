/* SPDX-License-Identifier: MIT */
/* Keystore baselines for `make bench`: what the file format alone costs,
 * with no crypto. For each store file (kept by `KS_BENCH_KEEP=1 ks_bench`):
 * the time of a plain jansson parse, and of the least a put must do on a
 * whole-file store (dump JSON to a temp file, fsync, rename). Medians of 5.
 *   store_base FILE...  -> "json_parse file=F records=N parse_s=.. write_ms=.." */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define REPS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The floor of one whole-file put: serialise, write, fsync, rename. */
static int write_once(const json_t *root, const char *path, double *ret_s)
{
	char tmp[4200], dst[4200];
	snprintf(tmp, sizeof tmp, "%s.base.tmp", path);
	snprintf(dst, sizeof dst, "%s.base", path);
	double t0 = now();
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	char *text = json_dumps(root, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	int r = text && io_write_all(fd, text, len) == 0 ? 0 : -1;
	free(text);
	if (r == 0)
		r = fsync(fd);
	close(fd);
	if (r == 0)
		r = rename(tmp, dst);
	*ret_s = now() - t0;
	unlink(tmp);
	unlink(dst);
	return r;
}

static int one(const char *path)
{
	double parse[REPS], wr[REPS];
	size_t records = 0;
	json_t *keep = NULL;
	for (int i = 0; i < REPS; i++) {
		json_error_t e;
		double t0 = now();
		json_t *root = json_load_file(path, 0, &e);
		parse[i] = now() - t0;
		if (!root) {
			fprintf(stderr, "store_base: %s: %s\n", path, e.text);
			return 1;
		}
		records = json_object_size(json_object_get(root, "records"));
		json_decref(keep);
		keep = root;
	}
	for (int i = 0; i < REPS; i++)
		if (write_once(keep, path, &wr[i]) < 0) {
			perror("store_base: write");
			json_decref(keep);
			return 1;
		}
	json_decref(keep);
	qsort(parse, REPS, sizeof(double), cmp_d);
	qsort(wr, REPS, sizeof(double), cmp_d);
	printf("json_parse file=%s records=%zu parse_s=%.4f write_ms=%.2f\n", path, records,
	       parse[REPS / 2], wr[REPS / 2] * 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: store_base FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		rc |= one(argv[i]);
	return rc;
}
