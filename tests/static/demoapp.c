/* SPDX-License-Identifier: MIT */
/* demoapp: the tiny static app in the demo and e2e images. It stands for a
 * real service reading its secrets from $KEYHOLE_DIR (tmpfs). It never prints
 * a value, only a SHA-256 digest, so its logs are safe to show.
 *   demoapp show FILE...           one "FILE sha256=HEX" line each, exit 0
 *                                  (exit 1 if a file is missing)
 *   demoapp env                    print the environment, one per line
 *   demoapp watch OUT FILE...      print digests, then loop reading FILEs;
 *                                  on SIGHUP print digests again ("HUP ...").
 *                                  SIGUSR1 prints "stats reads=N torn=M".
 *                                  Lines go to stdout and are appended to OUT
 *                                  ("-" = stdout only). SIGTERM exits 0.
 *   demoapp check OUT FILE...      like watch, for tests only: values must be
 *                                  TAG:TAG...TAG; each read takes one snapshot
 *                                  through ..data (the shim's atomic layout),
 *                                  logs every new tag combination ("seen T1,T2")
 *                                  and any value not of that form ("TORN").
 *                                  Tags are parts of values: test data only.
 *   demoapp ls                     non-hidden names in $KEYHOLE_DIR, sorted
 *   demoapp stat FILE...           "FILE mode=0400 uid=U gid=G size=N" and a
 *                                  "dir fs=tmpfs|other" line
 *   demoapp                        (no arguments: the README's /app/server)
 *                                  watch - on every file in $KEYHOLE_DIR */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 8
#define MAX_VALUE 4096

/* ---- SHA-256 (FIPS 180-4), small and slow is fine here ---- */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

static void sha256_hex(const uint8_t *m, size_t len, char out[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	uint8_t tail[128] = { 0 };
	size_t full = len / 64 * 64, rest = len - full, tl = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		sha_block(h, m + i);
	memcpy(tail, m + full, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
	for (size_t i = 0; i < tl; i += 64)
		sha_block(h, tail + i);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
	memset(tail, 0, sizeof tail);
}

/* ---- files ---- */
static const char *dir(void)
{
	const char *d = getenv("KEYHOLE_DIR");
	return d && *d ? d : "/run/secrets";
}

/* Read name (relative to dfd) into buf (NUL-terminated); length or -1. */
static ssize_t read_value_at(int dfd, const char *name, char *buf, size_t cap)
{
	ssize_t n, got = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)got < cap - 1 && (n = read(fd, buf + got, cap - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			got = -1;
			break;
		}
		got += n;
	}
	close(fd);
	buf[got > 0 ? got : 0] = '\0';
	return got;
}

static ssize_t read_value(const char *name, char *buf, size_t cap)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir(), name);
	return read_value_at(AT_FDCWD, path, buf, cap);
}

static void emit(const char *out, const char *line)
{
	fputs(line, stdout);
	fflush(stdout);
	if (!out || !strcmp(out, "-"))
		return;
	int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	(void)!write(fd, line, strlen(line));
	close(fd);
}

/* One line: "PREFIX FILE sha256=HEX ..." for every file. 0 if all present. */
static int digests(const char *out, const char *prefix, char **files, int n)
{
	char line[8192], val[MAX_VALUE], hex[65];
	size_t off = 0;
	int rc = 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	off += (size_t)snprintf(line, sizeof line, "%s t=%lld.%03ld", prefix, (long long)ts.tv_sec,
				ts.tv_nsec / 1000000);
	for (int i = 0; i < n && off + 400 < sizeof line; i++) {
		ssize_t len = read_value(files[i], val, sizeof val);
		if (len < 0) {
			snprintf(hex, sizeof hex, "missing");
			rc = 1;
		} else {
			sha256_hex((const uint8_t *)val, (size_t)len, hex);
		}
		off += (size_t)snprintf(line + off, sizeof line - off, " %.255s sha256=%.64s",
					files[i], hex);
		memset(val, 0, sizeof val);
	}
	if (off < sizeof line - 1)
		strcat(line, "\n");
	emit(out, line);
	return rc;
}

static volatile sig_atomic_t got_hup, got_usr1, got_term;

static void on_sig(int s)
{
	if (s == SIGHUP)
		got_hup = 1;
	else if (s == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* TAG:TAG...TAG -> 0 with the tag in tag[]; -1 otherwise. */
static int tag_of(const char *v, char *tag, size_t cap)
{
	const char *colon = strchr(v, ':');
	size_t tl = colon ? (size_t)(colon - v) : 0;
	if (!tl || tl >= cap)
		return -1;
	const char *rest = colon + 1;
	size_t rl = strlen(rest);
	if (!rl || rl % tl)
		return -1;
	for (size_t i = 0; i < rl; i += tl)
		if (memcmp(rest + i, v, tl))
			return -1;
	memcpy(tag, v, tl);
	tag[tl] = '\0';
	return 0;
}

/* One snapshot of every file: "T1,T2,..." into combo; -1 if torn. */
static int snapshot(char **files, int n, char *combo, size_t cap)
{
	char val[MAX_VALUE], tag[64];
	char path[4096];
	int rc = 0;
	snprintf(path, sizeof path, "%s/..data", dir());
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		dfd = open(dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	combo[0] = '\0';
	for (int i = 0; i < n && rc == 0; i++) {
		if (read_value_at(dfd, files[i], val, sizeof val) < 0)
			rc = 1; /* the version dir went away under us: retry */
		else if (tag_of(val, tag, sizeof tag) < 0)
			rc = -1;
		else if (strlen(combo) + strlen(tag) + 2 < cap)
			strcat(strcat(combo, i ? "," : ""), tag);
		memset(val, 0, sizeof val);
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static int watch(const char *out, char **files, int n, int check)
{
	unsigned long reads = 0, torn = 0;
	char line[700], combo[512], last[512] = "";
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	digests(out, "start", files, n);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			digests(out, "HUP", files, n);
		}
		if (got_usr1) {
			got_usr1 = 0;
			snprintf(line, sizeof line, "stats reads=%lu torn=%lu\n", reads, torn);
			emit(out, line);
		}
		int r = check ? snapshot(files, n, combo, sizeof combo) : 1;
		if (r < 0 && torn++ == 0)
			emit(out, "TORN a value not of the form TAG:TAG...\n");
		if (r == 0) {
			reads++;
			if (strcmp(combo, last)) {
				snprintf(line, sizeof line, "seen %s\n", combo);
				emit(out, line);
				memcpy(last, combo, sizeof last);
			}
		}
		struct timespec nap = { 0,
					2 * 1000 * 1000 }; /* 2 ms: a busy reader, not a spinner */
		nanosleep(&nap, NULL);
	}
	snprintf(line, sizeof line, "stats reads=%lu torn=%lu\nexit\n", reads, torn);
	emit(out, line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(void)
{
	char *names[256];
	size_t n = 0;
	DIR *d = opendir(dir());
	struct dirent *e;
	if (!d)
		return 1;
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_str);
	for (size_t i = 0; i < n; i++) {
		puts(names[i]);
		free(names[i]);
	}
	return 0;
}

static int stat_files(char **files, int n)
{
	char path[4096];
	struct stat st;
	struct statfs sf;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir(), files[i]);
		if (stat(path, &st) < 0) {
			printf("%s missing\n", files[i]);
			rc = 1;
			continue;
		}
		printf("%s mode=%04o uid=%u gid=%u size=%lld\n", files[i],
		       (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
		       (long long)st.st_size);
	}
	if (statfs(dir(), &sf) == 0)
		printf("dir fs=%s\n", sf.f_type == 0x01021994 ? "tmpfs" : "other");
	return rc;
}

/* The README's server: the files present at start, watched. */
static int serve(void)
{
	char *names[MAX_FILES];
	int n = 0;
	DIR *d = opendir(dir());
	struct dirent *e;

	while (d && (e = readdir(d)) && n < MAX_FILES)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmp_str);
	return watch("-", names, n, 0);
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return serve();
	if (argc >= 3 && !strcmp(argv[1], "show"))
		return digests("-", "show", argv + 2, argc - 2);
	if (argc == 2 && !strcmp(argv[1], "env")) {
		for (char **e = environ; *e; e++)
			puts(*e);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "watch") && argc - 3 <= MAX_FILES)
		return watch(argv[2], argv + 3, argc - 3, 0);
	if (argc >= 4 && !strcmp(argv[1], "check") && argc - 3 <= MAX_FILES)
		return watch(argv[2], argv + 3, argc - 3, 1);
	if (argc == 2 && !strcmp(argv[1], "ls"))
		return list_dir();
	if (argc >= 3 && !strcmp(argv[1], "stat"))
		return stat_files(argv + 2, argc - 2);
	fprintf(stderr, "usage: demoapp show FILE... | env | watch|check OUT FILE... | ls | "
			"stat FILE...\n");
	return 2;
}
