/* SPDX-License-Identifier: MIT */
/* A scripted stand-in for keyholed's shim side, for the shim's integration
 * tests (hostile and edge-case replies the real agent never sends).
 *   shim_fakeagent SOCKET SCRIPT LOG
 * Connection N (1-based) runs SCRIPT.N if it exists, else SCRIPT. It first
 * reads one REQUEST and appends "conn N flags F names a,b" to LOG. Lines:
 *   secret NAME FILE MODE(octal) VERSION VALUE...   denied NAME REASON...
 *   revoked NAME FILE    end [COUNT]   error CODE REASON...
 *   raw HEX              waitfile PATH (wait for it, then remove it)
 *   sleep MS             hold (until the peer closes)    close
 *   needv1               act as a protocol-1 agent: a REQUEST of another
 *                        version gets ERROR VERSION and the connection ends
 *                        (logs "conn N version V")
 *   secret2 NAME FILE|- MODE VERSION ENV|- ENV_FILE|- VALUE...  (a v2 SECRET2)
 * "end" without COUNT sends the number of messages since the last end. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proto.h"

static uint8_t out[PROTO_HDR + PROTO_MAX_PAYLOAD];
static unsigned g_version, g_conn; /* of the current connection's REQUEST */
static FILE *g_log;

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int read_request(int fd, FILE *log, int conn)
{
	static uint8_t in[PROTO_HDR + PROTO_MAX_REQUEST];
	static struct proto_msg m;
	uint32_t len;
	size_t have = 0;
	for (;;) {
		int r = proto_frame_check(in, have, PROTO_MAX_REQUEST, &len);
		if (r == 0)
			break;
		if (r != -EAGAIN)
			return -1;
		ssize_t n = read(fd, in + have, sizeof in - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	if (proto_decode(in + PROTO_HDR, len, &m) < 0 || m.type != PROTO_REQUEST)
		return -1;
	g_version = m.u.request.version;
	fprintf(log, "conn %d flags %u names ", conn, m.u.request.flags);
	for (unsigned i = 0; i < m.u.request.n_names; i++)
		fprintf(log, "%s%s", i ? "," : "", m.u.request.names[i]);
	fprintf(log, "\n");
	fflush(log);
	return 0;
}

static void hold(int fd)
{
	char b[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, -1) >= 0 && read(fd, b, sizeof b) > 0)
		;
}

static void wait_file(const char *path)
{
	while (access(path, F_OK) != 0)
		msleep(20);
	unlink(path);
}

static int send_raw(int fd, const char *hex)
{
	size_t n = 0;
	unsigned v;
	while (hex[0] && hex[1] && n < sizeof out && sscanf(hex, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return io_write_all(fd, out, n);
}

/* "secret2 NAME FILE|- MODE VERSION ENV|- ENV_FILE|- VALUE" into out. */
static ssize_t secret2(const char *line)
{
	struct proto_secret m;
	char f[256], e[PROTO_MAX_ENV_NAME + 1], ef[PROTO_MAX_ENV_NAME + 1];
	unsigned mode;
	int off = 0;
	memset(&m, 0, sizeof m);
	if (sscanf(line, "secret2 %255s %255s %o %llu %128s %128s %n", m.name, f, &mode,
		   (unsigned long long *)&m.version, e, ef, &off) != 6 ||
	    !off)
		return -EINVAL;
	m.mode = (uint16_t)mode;
	if (strcmp(f, "-"))
		m.delivery |= PROTO_D_FILE, snprintf(m.file, sizeof m.file, "%s", f);
	if (strcmp(e, "-"))
		m.delivery |= PROTO_D_ENV, snprintf(m.env, sizeof m.env, "%s", e);
	if (strcmp(ef, "-"))
		m.delivery |= PROTO_D_ENV_FILE, snprintf(m.env_file, sizeof m.env_file, "%s", ef);
	m.value = (const uint8_t *)line + off;
	m.value_len = (uint32_t)strlen(line + off);
	return proto_encode_secret2(out, sizeof out, &m);
}

/* "needv1": 1 when the connection ends here (a newer REQUEST). */
static int need_v1(int fd)
{
	fprintf(g_log, "conn %u version %u\n", g_conn, g_version);
	fflush(g_log);
	if (g_version == 1)
		return 0;
	ssize_t n = proto_encode_error(out, sizeof out, PROTO_E_VERSION,
				       "unsupported protocol version (want 1)");
	(void)io_write_all(fd, out, (size_t)n);
	return 1;
}

/* One script line. Returns 1 to stop serving this connection. */
static int run_line(int fd, char *line, uint32_t *count)
{
	char a[256], b[256], *rest;
	unsigned mode;
	unsigned long long ver;
	int off = 0;
	ssize_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "secret %255s %255s %o %llu %n", a, b, &mode, &ver, &off) == 4 && off) {
		rest = line + off;
		n = proto_encode_secret(out, sizeof out, a, ver, b, (uint16_t)mode,
					(const uint8_t *)rest, strlen(rest));
		++*count;
	} else if (!strncmp(line, "secret2 ", 8)) {
		n = secret2(line);
		++*count;
	} else if (!strcmp(line, "needv1")) {
		return need_v1(fd);
	} else if (sscanf(line, "denied %255s %n", a, &off) == 1 && off) {
		n = proto_encode_denied(out, sizeof out, a, line + off);
		++*count;
	} else if (sscanf(line, "revoked %255s %255s", a, b) == 2) {
		n = proto_encode_revoked(out, sizeof out, a, b);
		++*count;
	} else if (sscanf(line, "error %u %n", &mode, &off) == 1 && off) {
		n = proto_encode_error(out, sizeof out, (uint16_t)mode, line + off);
	} else if (!strncmp(line, "end", 3)) {
		unsigned c = *count;
		sscanf(line, "end %u", &c);
		n = proto_encode_end(out, sizeof out, c);
		*count = 0;
	} else if (!strncmp(line, "raw ", 4)) {
		return send_raw(fd, line + 4) < 0;
	} else if (!strncmp(line, "waitfile ", 9)) {
		wait_file(line + 9);
	} else if (!strncmp(line, "sleep ", 6)) {
		msleep(atol(line + 6));
	} else if (!strcmp(line, "hold")) {
		hold(fd);
		return 1;
	} else if (!strcmp(line, "close")) {
		return 1;
	}
	if (n < 0) {
		fprintf(stderr, "shim_fakeagent: cannot encode: %s\n", line);
		return 1;
	}
	return n > 0 && io_write_all(fd, out, (size_t)n) < 0;
}

static void serve(int fd, const char *script, int conn, FILE *log)
{
	char path[4096], line[8192];
	uint32_t count = 0;
	snprintf(path, sizeof path, "%s.%d", script, conn);
	FILE *f = fopen(path, "r");
	if (!f)
		f = fopen(script, "r");
	g_conn = (unsigned)conn;
	g_log = log;
	if (!f || read_request(fd, log, conn) < 0) {
		if (f)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof line, f))
		if (run_line(fd, line, &count))
			break;
	fclose(f);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: shim_fakeagent SOCKET SCRIPT LOG\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	FILE *log = fopen(argv[3], "a");
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if (!log || ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(ls, 16) < 0) {
		perror("shim_fakeagent");
		return 1;
	}
	for (int conn = 1;; conn++) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd, argv[2], conn, log);
		close(fd);
	}
}
