/* SPDX-License-Identifier: MIT */
/* Watch resync (agent/watch.c) end to end inside one process: a watcher
 * over a socketpair asks for a secret with WATCH; a rotation pushes the new
 * version, a policy that drops the grant pushes REVOKED, a removed record
 * pushes REVOKED, and an unchanged store pushes nothing. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "dispatch.h"
#include "watch.h"

static struct agent a;
static char dir[64], store[96], key[96];
static int peer_fd = -1;

static struct policy *policy_granting(const char *secret)
{
	char js[512], err[256];
	struct policy *p = NULL;

	snprintf(js, sizeof(js),
		 "{\"version\":1,\"rules\":[{\"name\":\"me\",\"match\":{\"uid\":%u},"
		 "\"grant\":[{\"secret\":\"%s\",\"file\":\"f\"}]}]}",
		 (unsigned)getuid(), secret);
	ck_assert_msg(policy_parse(js, strlen(js), &p, err, sizeof(err)) == 0, "%s", err);
	return p;
}

static void setup(void)
{
	struct ks_init_opts io = { .key_file = key, .passphrase_fd = -1 };
	struct ks_open_opts oo = { .key_file = key, .passphrase_fd = -1 };
	uint64_t v;

	ck_assert_int_ge(sodium_init(), 0);
	signal(SIGPIPE, SIG_IGN); /* as keyholed does (loop_init) */
	snprintf(dir, sizeof(dir), "/tmp/check_watch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store.json", dir);
	snprintf(key, sizeof(key), "%s/agent.key", dir);
	ck_assert_int_eq(ks_init(store, &io), 0);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(ks_open(store, &oo, &a.ks), 0);
	ck_assert_int_eq(ks_put(a.ks, "pay/db", (const uint8_t *)"v1", 2, &v), 0);
	a.pol = policy_granting("pay/db");
	a.cs.epfd = epoll_create1(EPOLL_CLOEXEC);
	a.rel = (struct release){ .ks = a.ks, .cs = &a.cs };
	a.o.max_conns = 16;
	a.rl = rl_new(0, 1, 0);
}

static void teardown(void)
{
	char cmd[128];

	conn_set_free(&a.cs);
	release_cache_flush(&a.rel);
	close(a.cs.epfd);
	policy_free(a.pol);
	ks_close(a.ks);
	rl_free(a.rl);
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Read one batch (frames up to END) from the watcher's side; returns a
 * compact description like "SECRET pay/db 2;END 1". */
static void read_batch(char *out, size_t cap)
{
	static uint8_t buf[1 << 16];
	size_t have = 0, used = 0;
	struct proto_reply rp;
	uint32_t len;

	out[0] = '\0';
	for (;;) {
		while (proto_frame_check(buf + used, have - used, PROTO_MAX_PAYLOAD, &len) ==
		       -EAGAIN) {
			struct pollfd pf = { peer_fd, POLLIN, 0 };
			ck_assert_int_eq(poll(&pf, 1, 2000), 1);
			ssize_t n = read(peer_fd, buf + have, sizeof(buf) - have);
			ck_assert_int_gt(n, 0);
			have += (size_t)n;
		}
		ck_assert_int_eq(proto_decode_reply(buf + used + PROTO_HDR, len, &rp), 0);
		used += PROTO_HDR + len;
		if (rp.type == PROTO_SECRET || rp.type == PROTO_SECRET2)
			snprintf(out + strlen(out), cap - strlen(out), "SECRET %s %llu %.*s;",
				 rp.u.secret.name, (unsigned long long)rp.u.secret.version,
				 (int)(rp.u.secret.value_len & 0xff),
				 (const char *)rp.u.secret.value);
		else if (rp.type == PROTO_REVOKED)
			snprintf(out + strlen(out), cap - strlen(out), "REVOKED %s;",
				 rp.u.revoked.name);
		else if (rp.type == PROTO_END) {
			snprintf(out + strlen(out), cap - strlen(out), "END %u", rp.u.end.count);
			ck_assert_uint_eq(used, have);
			return;
		} else
			ck_abort_msg("unexpected frame type %d", rp.type);
	}
}

static struct conn *start_watcher(void)
{
	int sv[2];
	const char *names[1] = { "pay/db" };
	uint8_t f[512];
	ssize_t n;
	struct conn *c;
	char got[512];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	peer_fd = sv[1];
	dispatch_accept(&a, sv[0]);
	c = a.cs.head;
	ck_assert_ptr_nonnull(c);
	n = proto_encode_request(f, sizeof(f), PROTO_F_WATCH, names, 1);
	ck_assert_int_eq(write(peer_fd, f, (size_t)n), n);
	dispatch_readable(&a, c);
	read_batch(got, sizeof(got));
	ck_assert_str_eq(got, "SECRET pay/db 1 v1;END 1");
	ck_assert(c->watching);
	ck_assert_uint_ge(a.cs.n_watchers, 1);
	return c;
}

static void store_changed(void)
{
	bool changed = false;

	ck_assert_int_eq(ks_reload(a.ks, &changed), 0);
	release_cache_flush(&a.rel);
	watch_resync_all(&a, "test");
}

static void nothing_pending(void)
{
	struct pollfd pf = { peer_fd, POLLIN, 0 };

	ck_assert_int_eq(poll(&pf, 1, 50), 0);
}

START_TEST(rotation_pushes_new_version)
{
	char got[512];
	uint64_t v;

	start_watcher();
	watch_resync_all(&a, "unchanged");
	nothing_pending();
	ck_assert_int_eq(ks_rotate(a.ks, "pay/db", (const uint8_t *)"v2", 2, 5, &v), 0);
	store_changed();
	read_batch(got, sizeof(got));
	ck_assert_str_eq(got, "SECRET pay/db 2 v2;END 1");
}
END_TEST

START_TEST(policy_revocation_and_regrant)
{
	char got[512];

	start_watcher();
	policy_free(a.pol);
	a.pol = policy_granting("other");
	watch_resync_all(&a, "policy reload");
	read_batch(got, sizeof(got));
	ck_assert_str_eq(got, "REVOKED pay/db;END 1");
	policy_free(a.pol);
	a.pol = policy_granting("pay/db");
	watch_resync_all(&a, "policy reload");
	read_batch(got, sizeof(got));
	ck_assert_str_eq(got, "SECRET pay/db 1 v1;END 1");
}
END_TEST

START_TEST(removed_record_revoked_then_returns)
{
	char got[512];
	uint64_t v;

	start_watcher();
	ck_assert_int_eq(ks_rm(a.ks, "pay/db"), 0);
	store_changed();
	read_batch(got, sizeof(got));
	ck_assert_str_eq(got, "REVOKED pay/db;END 1");
	ck_assert_int_eq(ks_put(a.ks, "pay/db", (const uint8_t *)"v9", 2, &v), 0);
	store_changed();
	read_batch(got, sizeof(got));
	ck_assert_msg(strstr(got, " v9;END 1") != NULL, "%s", got);
}
END_TEST

START_TEST(dead_watcher_dropped)
{
	start_watcher();
	close(peer_fd);
	peer_fd = -1;
	policy_free(a.pol);
	a.pol = policy_granting("other");
	watch_resync_all(&a, "policy reload"); /* write fails: connection closed */
	ck_assert_uint_eq(a.cs.n_watchers, 0);
}
END_TEST

/* Several watchers in one resync: one audit write for all their pushes
 * (the lines are in the file before any frame is sent), each gets its own
 * batch. */
START_TEST(batch_audited_once_then_sent)
{
	char path[128], got[512], line[1024];
	int fds[3], n_lines = 0;
	uint64_t v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	ck_assert_int_eq(audit_open(path, &a.audit), 0);
	a.rel.audit = a.audit;
	for (int i = 0; i < 3; i++) {
		start_watcher();
		fds[i] = peer_fd;
	}
	ck_assert_uint_eq(a.cs.n_watchers, 3);
	ck_assert_int_eq(ks_rotate(a.ks, "pay/db", (const uint8_t *)"v2", 2, 5, &v), 0);
	store_changed();
	for (int i = 0; i < 3; i++) {
		peer_fd = fds[i];
		read_batch(got, sizeof(got));
		ck_assert_str_eq(got, "SECRET pay/db 2 v2;END 1");
		if (i < 2)
			close(fds[i]);
	}
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n_lines += strstr(line, "\"decision\":\"push\"") && strstr(line, "\"version\":2");
	fclose(f);
	ck_assert_int_eq(n_lines, 3);
	audit_close(a.audit);
	a.audit = a.rel.audit = NULL;
}
END_TEST

/* The batched audit write fails: no pushed value goes out; the watcher is
 * told and closed (it reconnects and is served, or denied, one by one). */
START_TEST(failed_audit_withholds_push)
{
	static uint8_t buf[4096];
	struct proto_reply rp;
	struct pollfd pf;
	uint32_t len;
	size_t have = 0;
	uint64_t v;

	start_watcher();
	ck_assert_int_eq(audit_open("/dev/full", &a.audit), 0);
	a.rel.audit = a.audit;
	ck_assert_int_eq(ks_rotate(a.ks, "pay/db", (const uint8_t *)"v2", 2, 5, &v), 0);
	store_changed();
	pf = (struct pollfd){ peer_fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	while (proto_frame_check(buf, have, PROTO_MAX_PAYLOAD, &len) == -EAGAIN) {
		ssize_t n = read(peer_fd, buf + have, sizeof(buf) - have);
		ck_assert_int_gt(n, 0);
		have += (size_t)n;
	}
	ck_assert_int_eq(proto_decode_reply(buf + PROTO_HDR, len, &rp), 0);
	ck_assert_int_eq(rp.type, PROTO_ERROR); /* not SECRET v2 */
	for (size_t i = 0; i + 1 < have; i++)
		ck_assert_msg(buf[i] != 'v' || buf[i + 1] != '2', "value v2 sent");
	ck_assert_uint_eq(a.cs.n_watchers, 0);
	audit_close(a.audit);
	a.audit = a.rel.audit = NULL;
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("resync");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rotation_pushes_new_version);
	tcase_add_test(tc, policy_revocation_and_regrant);
	tcase_add_test(tc, removed_record_revoked_then_returns);
	tcase_add_test(tc, dead_watcher_dropped);
	tcase_add_test(tc, batch_audited_once_then_sent);
	tcase_add_test(tc, failed_audit_withholds_push);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
