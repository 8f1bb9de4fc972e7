/* SPDX-License-Identifier: MIT */
/* Hostile load against keyholed's socket while a valid client keeps
 * fetching (tests/integration/abuse_*.sh, tests/stress/). A child process
 * (optionally as another uid, i.e. another identity) opens N connections
 * that send garbage, truncated frames, oversize length prefixes, nothing at
 * all (slowloris, held open), or whose process dies right after connect.
 * The parent fetches NAME every --pace MS (default 2), checks the value, and
 * prints latencies.
 *   abuse SOCK --hostile N [--hold H] [--uid U] [--mode M] --name NAME
 *         [--expect VALUE] [--flood] [--pace MS] [--count N]
 * --count N: at least N valid fetches (default 1), even with --hostile 0.
 * --flood: the child sends valid REQUESTs as fast as it can instead.
 *   abuse SOCK --probe NAME | --probe-len N
 * sends one REQUEST for NAME (any bytes, unvalidated) or for a name of N
 * bytes (N may exceed the 255 cap: the frame is built by hand) and prints
 * each reply as one line: SECRET/DENIED/REVOKED/END/ERROR/CLOSED.
 * Exit 0 when every valid fetch returned the expected value. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"

enum mode { M_GARBAGE, M_TRUNC, M_OVERSIZE, M_SLOW, M_DIE, M_COUNT };
static const char *const mode_names[M_COUNT] = { "garbage", "truncated", "oversize", "slowloris",
						 "died" };

static const char *sock_path, *name, *expect;
static long n_hostile = 1000, hold = 200, uid = -1, only_mode = -1, pace_ms = 2, min_fetches = 1;
static int flood;
/* Why valid fetches failed: dial, send, read (EOF/reset/timeout), reply. */
static unsigned long fail_dial, fail_send, fail_read, fail_reply;
static int last_read_err;
static char last_reply[PROTO_MAX_REASON + PROTO_MAX_NAME + 32];
static const char *probe_name;
static long probe_len = -1;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One fetch of `name`: 0 when the expected value arrived, 1 when refused
 * with ERROR BUSY, -1 on any other outcome. */
static int fetch(uint8_t *buf)
{
	const char *names[1] = { name };
	uint8_t req[PROTO_HDR + PROTO_MAX_NAME + 16];
	struct proto_msg m;
	int got = 0, r, fd = dial(5000);
	ssize_t len = proto_encode_request(req, sizeof req, 0, names, 1);
	if (fd < 0 || len < 0) {
		fail_dial++;
		goto fail;
	}
	if (io_write_all(fd, req, (size_t)len) < 0) {
		fail_send++;
		goto fail;
	}
	for (;;) {
		uint32_t plen;
		if ((r = io_read_all(fd, buf, PROTO_HDR)) < 0 ||
		    (r = proto_frame_check(buf, PROTO_HDR + PROTO_MAX_PAYLOAD, PROTO_MAX_PAYLOAD,
					   &plen)) < 0 ||
		    (r = io_read_all(fd, buf + PROTO_HDR, plen)) < 0) {
			fail_read++;
			last_read_err = r;
			goto fail;
		}
		if (proto_decode(buf + PROTO_HDR, plen, &m) < 0) {
			fail_reply++;
			goto fail;
		}
		if (m.type == PROTO_DENIED)
			snprintf(last_reply, sizeof last_reply, "DENIED %s: %s", m.u.denied.name,
				 m.u.denied.reason);
		if (m.type == PROTO_ERROR)
			snprintf(last_reply, sizeof last_reply, "ERROR %u: %s", m.u.error.code,
				 m.u.error.reason);
		if ((m.type == PROTO_SECRET || m.type == PROTO_SECRET2) &&
		    !strcmp(m.u.secret.name, name))
			got = !expect || (m.u.secret.value_len == strlen(expect) &&
					  !memcmp(m.u.secret.value, expect, strlen(expect)));
		else if (m.type == PROTO_ERROR) {
			close(fd);
			if (m.u.error.code == PROTO_E_BUSY)
				return 1;
			fail_reply++;
			return -1;
		} else if (m.type == PROTO_END)
			break;
	}
	close(fd);
	if (!got)
		fail_reply++;
	return got ? 0 : -1;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void send_hostile(int fd, enum mode m, unsigned *seed)
{
	uint8_t b[4096];
	size_t n = 0;
	switch (m) {
	case M_GARBAGE:
		n = 16 + (size_t)rand_r(seed) % (sizeof b - 16);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand_r(seed);
		break;
	case M_TRUNC: /* claims 200 bytes, sends the start of a REQUEST */
		memcpy(b, "\0\0\0\xc8\x01\0\x01\0\0\x01\0\x05", 12);
		n = 12;
		break;
	case M_OVERSIZE:
		memcpy(b, "\xff\xff\xff\xf0\x01", 5);
		n = 5;
		break;
	case M_SLOW:
		b[0] = 0; /* one byte of a length prefix, then silence */
		n = 1;
		break;
	case M_DIE:
	case M_COUNT: break;
	}
	if (n)
		(void)io_write_all(fd, b, n);
}

/* A process that connects and exits at once: the agent attests a corpse. */
static int die_after_connect(void)
{
	pid_t p = fork();
	if (p == 0) {
		int fd = dial(2000);
		_exit(fd < 0);
	}
	int st;
	return p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) ? -1 : 0;
}

static void drop_uid(void)
{
	if (uid < 0)
		return;
	if (setgroups(0, NULL) < 0 || setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) {
		perror("abuse: drop uid");
		_exit(2);
	}
}

static int hostile_child(void)
{
	unsigned long count[M_COUNT] = { 0 }, refused = 0;
	int *held = calloc((size_t)hold + 1, sizeof *held);
	long nheld = 0;
	unsigned seed = (unsigned)getpid();
	if (!held)
		return 2;
	drop_uid();
	for (long i = 0; i < n_hostile; i++) {
		enum mode m = only_mode >= 0 ? (enum mode)only_mode : (enum mode)(i % M_COUNT);
		if (m == M_DIE) {
			if (die_after_connect() < 0)
				refused++;
			count[m]++;
			continue;
		}
		int fd = dial(2000);
		if (fd < 0) {
			refused++;
			continue;
		}
		send_hostile(fd, m, &seed);
		count[m]++;
		if (m == M_SLOW && hold > 0) {
			if (nheld == hold) { /* release the oldest */
				close(held[0]);
				memmove(held, held + 1, (size_t)(hold - 1) * sizeof *held);
				nheld--;
			}
			held[nheld++] = fd;
		} else {
			close(fd);
		}
	}
	printf("hostile: %ld connections:", n_hostile);
	for (int m = 0; m < M_COUNT; m++)
		printf(" %s %lu", mode_names[m], count[m]);
	printf("; connect failures %lu; slowloris held at end %ld\n", refused, nheld);
	fflush(stdout);
	for (long i = 0; i < nheld; i++)
		close(held[i]);
	free(held);
	return 0;
}

static int flood_child(void)
{
	static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD];
	unsigned long ok = 0, busy = 0, other = 0;
	drop_uid();
	for (long i = 0; i < n_hostile; i++) {
		int r = fetch(buf);
		if (r == 0)
			ok++;
		else if (r == 1)
			busy++;
		else
			other++;
	}
	printf("flood: %ld requests: served %lu, busy %lu, other %lu\n", n_hostile, ok, busy,
	       other);
	fflush(stdout);
	return 0;
}

/* REQUEST for one name, encoded by hand so over-cap names can be sent. */
static size_t raw_request(uint8_t *b, const char *nm, size_t nl)
{
	size_t pl = 1 + 2 + 1 + 2 + 2 + nl;
	uint8_t *p = b;
	*p++ = (uint8_t)(pl >> 24), *p++ = (uint8_t)(pl >> 16), *p++ = (uint8_t)(pl >> 8);
	*p++ = (uint8_t)pl;
	*p++ = PROTO_REQUEST, *p++ = 0, *p++ = PROTO_VERSION, *p++ = 0, *p++ = 0, *p++ = 1;
	*p++ = (uint8_t)(nl >> 8), *p++ = (uint8_t)nl;
	memcpy(p, nm, nl);
	return PROTO_HDR + pl;
}

static int probe(void)
{
	static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD];
	static char nm[65536];
	size_t nl = probe_name ? strlen(probe_name) : (size_t)probe_len;
	struct proto_msg m;
	int fd = dial(5000);
	if (nl > 65535 || fd < 0)
		return 2;
	if (probe_name)
		memcpy(nm, probe_name, nl);
	else
		memset(nm, 'a', nl);
	if (io_write_all(fd, buf, raw_request(buf, nm, nl)) < 0) {
		printf("CLOSED before the request was sent\n");
		return 0;
	}
	for (;;) {
		uint32_t plen;
		if (io_read_all(fd, buf, PROTO_HDR) < 0 ||
		    proto_frame_check(buf, PROTO_HDR + PROTO_MAX_PAYLOAD, PROTO_MAX_PAYLOAD,
				      &plen) < 0 ||
		    io_read_all(fd, buf + PROTO_HDR, plen) < 0) {
			printf("CLOSED\n");
			break;
		}
		if (proto_decode(buf + PROTO_HDR, plen, &m) < 0) {
			printf("MALFORMED reply\n");
			break;
		}
		if (m.type == PROTO_SECRET || m.type == PROTO_SECRET2)
			printf("SECRET %s v%llu (%u bytes)\n", m.u.secret.name,
			       (unsigned long long)m.u.secret.version, m.u.secret.value_len);
		else if (m.type == PROTO_DENIED)
			printf("DENIED %.60s: %s\n", m.u.denied.name, m.u.denied.reason);
		else if (m.type == PROTO_ERROR) {
			printf("ERROR %u: %s\n", m.u.error.code, m.u.error.reason);
			break;
		} else if (m.type == PROTO_END) {
			printf("END %u\n", m.u.end.count);
			break;
		} else
			printf("%s\n", proto_type_name(m.type));
	}
	close(fd);
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: abuse SOCK --name NAME [--expect V] [--hostile N] [--hold H] "
		"[--uid U] [--mode garbage|truncated|oversize|slowloris|died] [--flood] [--pace MS]\n"
		"       abuse SOCK --probe NAME | --probe-len N\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hostile", 1, 0, 'n' }, { "hold", 1, 0, 'H' },   { "uid", 1, 0, 'u' },
		{ "name", 1, 0, 'N' },	  { "expect", 1, 0, 'e' }, { "mode", 1, 0, 'm' },
		{ "flood", 0, 0, 'f' },	  { "probe", 1, 0, 'p' },  { "probe-len", 1, 0, 'P' },
		{ "pace", 1, 0, 'w' },	  { "count", 1, 0, 'c' },  { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n_hostile = atol(optarg); break;
		case 'H': hold = atol(optarg); break;
		case 'u': uid = atol(optarg); break;
		case 'N': name = optarg; break;
		case 'e': expect = optarg; break;
		case 'f': flood = 1; break;
		case 'p': probe_name = optarg; break;
		case 'w': pace_ms = atol(optarg); break;
		case 'c': min_fetches = atol(optarg); break;
		case 'P': probe_len = atol(optarg); break;
		case 'm':
			for (int m = 0; m < M_COUNT; m++)
				if (!strcmp(optarg, mode_names[m]))
					only_mode = m;
			if (only_mode < 0)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc - 1 || (!name && !probe_name && probe_len < 0) || n_hostile < 0 ||
	    hold < 0 || pace_ms < 0 || pace_ms > 10000)
		usage();
	sock_path = argv[optind];
}

int main(int argc, char **argv)
{
	static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD];
	size_t cap = 1 << 16, n = 0;
	unsigned long failed = 0, busy = 0;
	long done = 0;
	double *lat;
	int st;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (probe_name || probe_len >= 0)
		return probe();
	fflush(stdout);
	if (!(lat = malloc(cap * sizeof *lat)))
		return 2;
	pid_t child = fork();
	if (child < 0)
		return 2;
	if (child == 0)
		_exit(flood ? flood_child() : hostile_child());
	/* Valid fetches until the hostile child is done (at least one). */
	do {
		double t0 = now_ms();
		int r = fetch(buf);
		if (r == 0 && n < cap)
			lat[n++] = now_ms() - t0;
		else if (r == 1)
			busy++;
		else if (r < 0)
			failed++;
		usleep((useconds_t)pace_ms * 1000u);
		done++;
	} while (waitpid(child, &st, WNOHANG) == 0 || done < min_fetches);
	if (n == 0) {
		printf("valid: 0 fetches served, %lu failed, %lu busy\n", failed, busy);
		free(lat);
		return 1;
	}
	qsort(lat, n, sizeof *lat, cmp_d);
	printf("valid: %zu served, %lu failed, %lu busy; latency ms p50 %.2f p99 %.2f max %.2f\n",
	       n, failed, busy, lat[n / 2], lat[(n * 99) / 100], lat[n - 1]);
	if (failed)
		printf("valid failures: dial %lu, send %lu, read %lu (last %s), bad reply %lu "
		       "(last: %s)\n",
		       fail_dial, fail_send, fail_read, strerror(-last_read_err), fail_reply,
		       last_reply);
	free(lat);
	return failed || busy || !WIFEXITED(st) || WEXITSTATUS(st) ? 1 : 0;
}
