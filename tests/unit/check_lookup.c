/* SPDX-License-Identifier: MIT */
/* lookup.c: one worker per source behind one eventfd. A kubelet that
 * accepts and never answers (a loopback listener nobody accepts from) must
 * not hold up an engine lookup (the engine's answer, a refusal from a
 * socket path that does not exist, is collected while the kubelet's is
 * still outstanding), and three submissions of the pod list while one is
 * queued or in flight make one request and one result. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "lookup.h"

#define ID_X "68599b052dffe302eba8dffeca05019d6923c463cfd10156c696e315cf1a39f0"

/* A loopback listener whose connections stay in the backlog. */
static int hung_listener(char *url, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		  listen(fd, 8) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(url, len, "https://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

static int backlog_count(int lfd)
{
	int n = 0, fd;

	ck_assert(fcntl(lfd, F_SETFL, O_NONBLOCK) == 0);
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == EINTR)
		if (fd >= 0) {
			n++;
			close(fd);
		}
	return n;
}

/* Wait (up to 30 s) for the eventfd, reset it, take one result from l. */
static int wait_next(int efd, struct lookup *l, struct lookup_result *r)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t cnt;

	for (int i = 0; i < 300; i++) {
		if (lookup_next(l, r) == 1)
			return 1;
		if (poll(&p, 1, 100) == 1 && read(efd, &cnt, sizeof(cnt)) < 0)
			ck_assert_int_eq(errno, EAGAIN);
	}
	return 0;
}

START_TEST(test_sources_apart)
{
	struct kubelet *k = NULL;
	struct engine *e = NULL;
	struct lookup *kl = NULL, *el = NULL;
	struct lookup_result r;
	char url[64], err[128];
	int lfd = hung_listener(url, sizeof(url));
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	/* The kubelet's timeout must outlast the engine's answer: under
	 * valgrind (tests/run.sh exports VALGRIND) threads start and run
	 * many times slower, so it waits longer there. */
	unsigned timeout_ms = getenv("VALGRIND") ? 20000 : 3000;

	ck_assert(efd >= 0);
	ck_assert_int_eq(kubelet_new(&(struct kubelet_opts){ .url = url, .timeout_ms = timeout_ms },
				     &k, err, sizeof(err)),
			 0);
	ck_assert_int_eq(engine_new("unix:///nonexistent/keyhole-test/engine.sock", &e), 0);
	ck_assert_int_eq(lookup_new_kubelet(k, efd, &kl), 0);
	ck_assert_int_eq(lookup_new_engine(e, efd, &el), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(lookup_submit(kl, LOOKUP_KUBELET_KEY), 0);
	ck_assert_int_eq(lookup_submit(el, ID_X), 0);
	/* the engine answers while the kubelet's request hangs */
	ck_assert_int_eq(wait_next(efd, el, &r), 1);
	ck_assert_str_eq(r.key, ID_X);
	ck_assert_int_lt(r.rc, 0);
	container_meta_clear(&r.meta);
	ck_assert_int_eq(lookup_next(kl, &r), 0);
	/* then the kubelet's: timed out, once for the three submissions */
	ck_assert_int_eq(wait_next(efd, kl, &r), 1);
	ck_assert_str_eq(r.key, LOOKUP_KUBELET_KEY);
	ck_assert_int_eq(r.rc, -ETIMEDOUT);
	ck_assert_ptr_null(r.pods);
	lookup_free(kl);
	ck_assert_int_eq(lookup_next(el, &r), 0);
	lookup_free(el);
	ck_assert_int_eq(backlog_count(lfd), 1);
	kubelet_free(k);
	engine_free(e);
	close(lfd);
	close(efd);
}
END_TEST

/* lookup_free with a request in flight and a result not taken: joins the
 * worker (bounded by the source's timeout) and frees what it holds. */
START_TEST(test_free_in_flight)
{
	struct kubelet *k = NULL;
	struct lookup *kl = NULL;
	char url[64], err[128];
	int lfd = hung_listener(url, sizeof(url));
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ck_assert_int_eq(kubelet_new(&(struct kubelet_opts){ .url = url, .timeout_ms = 1000 }, &k,
				     err, sizeof(err)),
			 0);
	ck_assert_int_eq(lookup_new_kubelet(k, efd, &kl), 0);
	ck_assert_int_eq(lookup_submit(kl, LOOKUP_KUBELET_KEY), 0);
	lookup_free(kl);
	lookup_free(NULL);
	kubelet_free(k);
	close(lfd);
	close(efd);
}
END_TEST

static Suite *lookup_suite(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc = tcase_create("threads");

	tcase_add_test(tc, test_sources_apart);
	tcase_add_test(tc, test_free_in_flight);
	tcase_set_timeout(tc, 40);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(lookup_suite)
