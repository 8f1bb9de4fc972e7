/* SPDX-License-Identifier: MIT */
/* agent/config.c (keyholed.conf parser), agent/notify.c (sd_notify over a
 * socketpair-free datagram socket) and common/proto.c's
 * proto_secret_name_problem, which must agree with proto_secret_name_valid. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "notify.h"
#include "proto.h"

static struct config *parse_ok(const char *text)
{
	struct config *c = NULL;
	char err[256] = "";

	ck_assert_msg(config_parse(text, strlen(text), &c, err, sizeof(err)) == 0, "%s", err);
	return c;
}

static void parse_err(const char *text, const char *want)
{
	struct config *c = NULL;
	char err[256] = "";

	ck_assert_int_eq(config_parse(text, strlen(text), &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, want), "got '%s', want '%s'", err, want);
	ck_assert_ptr_null(c);
}

START_TEST(config_forms)
{
	struct config *c =
		parse_ok("# comment\n\n  engine unix:///run/docker.sock  \n"
			 "audit-log = /var/log/keyhole/audit.log\r\n"
			 "debug\netcd-cacert \"/etc/ca with space.pem\"\n\t# indented\n");

	ck_assert_uint_eq(c->n, 4);
	ck_assert_str_eq(c->v[0].key, "engine");
	ck_assert_str_eq(c->v[0].value, "unix:///run/docker.sock");
	ck_assert_uint_eq(c->v[0].line, 3);
	ck_assert_str_eq(c->v[1].key, "audit-log");
	ck_assert_str_eq(c->v[1].value, "/var/log/keyhole/audit.log");
	ck_assert_str_eq(c->v[2].key, "debug");
	ck_assert_str_eq(c->v[2].value, "");
	ck_assert_str_eq(c->v[3].value, "/etc/ca with space.pem");
	config_free(c);
	c = parse_ok("");
	ck_assert_uint_eq(c->n, 0);
	config_free(c);
	c = parse_ok("engine x"); /* no final newline */
	ck_assert_str_eq(c->v[0].value, "x");
	config_free(c);
}
END_TEST

START_TEST(config_errors)
{
	char big[CONFIG_MAX_BYTES + 2];

	parse_err("engine a\nengine b\n", "line 2: engine given twice (first on line 1)");
	parse_err("Engine x\n", "line 1: expected `key value`");
	parse_err("en_gine x\n", "line 1: expected");
	parse_err("engine \"x\n", "line 1: unbalanced");
	parse_err("engine a\"b\n", "unbalanced");
	parse_err("abcdefghijabcdefghijabcdefghijabc x\n", "longer than 32");
	memset(big, '#', sizeof(big));
	ck_assert_int_eq(config_parse(big, sizeof(big) - 1, &(struct config *){ NULL }, big, 64),
			 -EINVAL);
	ck_assert_int_eq(config_parse("engine x\0y", 10, &(struct config *){ NULL }, big, 64),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(big, "NUL"));
}
END_TEST

START_TEST(config_caps_entries)
{
	size_t cap = 64 * (CONFIG_MAX_ENTRIES + 2);
	char *t = malloc(cap), err[128];
	struct config *c = NULL;
	size_t off = 0;

	for (unsigned i = 0; i <= CONFIG_MAX_ENTRIES; i++)
		off += (size_t)snprintf(t + off, cap - off, "k%u v\n", i);
	ck_assert_int_eq(config_parse(t, off, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
	free(t);
}
END_TEST

static const char *problem(const char *s)
{
	static char buf[160];
	return proto_secret_name_problem(s, buf, sizeof(buf));
}

START_TEST(name_problem_agrees)
{
	static const char *const names[] = {
		"a",	   "a/b",  "payments/db", "a b",    "",		"/a",
		"a/",	   "a//b", "a/./b",	  "a/../b", "..",	".",
		".hidden", "a..b", "x$y",	  "a\tb",   "\xc3\xa9", "a-b_c.d",
	};
	char longn[300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg((problem(names[i]) == NULL) == proto_secret_name_valid(names[i]),
			      "disagree on '%s'", names[i]);
	memset(longn, 'a', sizeof(longn) - 1);
	longn[sizeof(longn) - 1] = '\0';
	ck_assert_str_eq(problem(longn), "is longer than 255 bytes");
	longn[255] = '\0';
	ck_assert_ptr_null(problem(longn));
	ck_assert_str_eq(problem(""), "is empty");
	ck_assert_ptr_nonnull(strstr(problem("a b"), "contains a space at byte 2"));
	ck_assert_str_eq(problem("a/../b"), "has a '..' segment");
	ck_assert_str_eq(problem("a/./b"), "has a '.' segment");
	ck_assert_str_eq(problem("a//b"), "has an empty segment ('//')");
	ck_assert_str_eq(problem("/a"), "starts with '/'");
	ck_assert_str_eq(problem("a/"), "ends with '/'");
	ck_assert_ptr_nonnull(strstr(problem("x$y"), "contains '$' at byte 2 (allowed:"));
	ck_assert_ptr_nonnull(strstr(problem("a\tb"), "byte 0x09"));
	ck_assert_ptr_null(proto_secret_name_problem("ok/name", (char[4]){ 0 }, 4));
}
END_TEST

START_TEST(notify_datagram)
{
	char path[] = "/tmp/kh-notify-XXXXXX", sock[64], buf[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/n.sock", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(notify_send(sock, "READY=1\nSTATUS=x"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_eq(n, 16);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "READY=1\nSTATUS=x");
	ck_assert_int_eq(notify_send("relative", "READY=1"), -EINVAL);
	ck_assert_int_eq(notify_send("", "READY=1"), -EINVAL);
	ck_assert_int_eq(notify_send(NULL, "READY=1"), -EINVAL);
	ck_assert_int_lt(notify_send("/nonexistent/n.sock", "READY=1"), 0);
	close(fd);
	unlink(sock);
	rmdir(path);
}
END_TEST

START_TEST(notify_abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64], buf[32];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t n = (size_t)snprintf(name, sizeof(name), "@kh-notify-test-%d", (int)getpid());

	memcpy(sa.sun_path, name, n);
	sa.sun_path[0] = '\0';
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 0);
	ck_assert_int_eq(notify_send(name, "READY=1"), 0);
	ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 7);
	close(fd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, config_forms);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_caps_entries);
	tcase_add_test(tc, name_problem_agrees);
	tcase_add_test(tc, notify_datagram);
	tcase_add_test(tc, notify_abstract);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
