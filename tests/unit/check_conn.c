/* SPDX-License-Identifier: MIT */
/* agent/conn.c over a socketpair: the one frame reader (whole, partial,
 * oversize, trailing bytes, EOF inside and before a frame), queued output
 * reaching the peer, errors closing, and the pending FIFO. */
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "conn.h"

static struct conn_set cs;
static int peer_fd;

static struct conn *open_conn(void)
{
	int sv[2];
	struct conn *c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	c = conn_new(&cs, sv[0], CONN_AGENT);
	ck_assert_ptr_nonnull(c);
	peer_fd = sv[1];
	return c;
}

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	memset(&cs, 0, sizeof(cs));
	cs.epfd = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(cs.epfd, 0);
}

static void teardown(void)
{
	conn_set_free(&cs);
	close(cs.epfd);
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
}

static size_t request(uint8_t *buf, size_t cap, const char *name)
{
	const char *names[1] = { name };
	ssize_t n = proto_encode_request(buf, cap, 0, names, 1);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(whole_frame_in_pieces)
{
	struct conn *c = open_conn();
	uint8_t f[512];
	size_t n = request(f, sizeof(f), "payments/db");
	uint32_t len = 0;

	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), 0); /* nothing yet */
	ck_assert_int_eq(write(peer_fd, f, 3), 3);
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), 0);
	ck_assert_int_eq(write(peer_fd, f + 3, n - 3), (ssize_t)(n - 3));
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), 1);
	ck_assert_uint_eq(len, n - PROTO_HDR);
	conn_wipe_request(c);
	ck_assert_ptr_null(c->rbuf);
}
END_TEST

START_TEST(trailing_bytes_refused)
{
	struct conn *c = open_conn();
	uint8_t f[600];
	size_t n = request(f, sizeof(f), "a");
	uint32_t len;

	f[n] = 'x';
	ck_assert_int_eq(write(peer_fd, f, n + 1), (ssize_t)(n + 1));
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), -EBADMSG);
}
END_TEST

START_TEST(oversize_prefix_refused_at_once)
{
	struct conn *c = open_conn();
	uint8_t big[4] = { 0x00, 0x10, 0x00, 0x00 }; /* 1 MiB */
	uint32_t len;

	ck_assert_int_eq(write(peer_fd, big, 4), 4);
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), -EMSGSIZE);
	ck_assert_uint_le(c->rcap, 4096); /* nothing near the claimed size was allocated */
}
END_TEST

START_TEST(eof_inside_and_before_frame)
{
	struct conn *c = open_conn();
	uint8_t f[512];
	uint32_t len;

	request(f, sizeof(f), "a");
	ck_assert_int_eq(write(peer_fd, f, 5), 5);
	shutdown(peer_fd, SHUT_WR);
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), -EPIPE);
	c = open_conn();
	shutdown(peer_fd, SHUT_WR);
	ck_assert_int_eq(conn_read_frame(c, PROTO_MAX_REQUEST, &len), -ECONNRESET);
}
END_TEST

START_TEST(queued_frames_reach_peer_then_close)
{
	struct conn *c = open_conn();
	uint8_t f[64], got[128];
	ssize_t n = proto_encode_end(f, sizeof(f), 7);
	struct proto_reply rp;

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(conn_queue(&cs, c, f, (size_t)n), 0);
	ck_assert_int_eq(conn_flush(&cs, c), 0);
	ck_assert_ptr_null(c->wbuf); /* flushed output is wiped and released */
	ck_assert_int_eq(read(peer_fd, got, sizeof(got)), n);
	ck_assert_int_eq(proto_decode_reply(got + PROTO_HDR, (size_t)n - PROTO_HDR, &rp), 0);
	ck_assert_uint_eq(rp.u.end.count, 7);
	ck_assert_int_eq(conn_send_error(&cs, c, PROTO_E_BUSY, "busy"), -EPIPE);
	ck_assert(c->dead);
	ck_assert_uint_eq(cs.n, 0);
	n = read(peer_fd, got, sizeof(got));
	ck_assert_int_gt(n, (ssize_t)PROTO_HDR);
	ck_assert_int_eq(proto_decode_reply(got + PROTO_HDR, (size_t)n - PROTO_HDR, &rp), 0);
	ck_assert_int_eq(rp.type, PROTO_ERROR);
	ck_assert_uint_eq(rp.u.error.code, PROTO_E_BUSY);
	ck_assert_int_eq(read(peer_fd, got, sizeof(got)), 0); /* closed */
}
END_TEST

START_TEST(output_cap)
{
	struct conn *c = open_conn();
	uint8_t *p;

	ck_assert_int_eq(conn_reserve(&cs, c, CONN_MAX_WBUF + 1, &p), -ENOBUFS);
	ck_assert_int_eq(conn_reserve(&cs, c, 100, &p), 0);
	conn_commit(c, 100);
	ck_assert_int_eq(conn_reserve(&cs, c, CONN_MAX_WBUF - 99, &p), -ENOBUFS);
	ck_assert_int_eq(conn_reserve(&cs, c, (size_t)-1, &p), -ENOBUFS); /* no overflow */
}
END_TEST

START_TEST(pending_fifo_order)
{
	struct conn *a = open_conn();
	int pa = peer_fd;
	struct conn *b = open_conn();

	ck_assert_ptr_eq(cs.phead, a);
	ck_assert_ptr_eq(cs.ptail, b);
	ck_assert_uint_le(a->deadline_ms, b->deadline_ms);
	conn_pending_remove(&cs, a);
	ck_assert_ptr_eq(cs.phead, b);
	conn_close(&cs, b);
	ck_assert_ptr_null(cs.phead);
	ck_assert_ptr_null(cs.ptail);
	ck_assert_uint_eq(cs.n, 1);
	close(pa);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("conn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, whole_frame_in_pieces);
	tcase_add_test(tc, trailing_bytes_refused);
	tcase_add_test(tc, oversize_prefix_refused_at_once);
	tcase_add_test(tc, eof_inside_and_before_frame);
	tcase_add_test(tc, queued_frames_reach_peer_then_close);
	tcase_add_test(tc, output_cap);
	tcase_add_test(tc, pending_fifo_order);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
