/* SPDX-License-Identifier: MIT */
/* Unit tests for shim/args.c: defaults and environment, every option, and
 * the command lines that must be refused (bad ids, names, signals, missing
 * "--"), the rotation defaults (nothing sent unless --on-rotate), plus
 * shim/set.c's file-uniqueness rule and its values-on-disk entries. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "shim.h"

static char err[256];
static char *argvbuf[64];
static char strs[64][300];

/* Parse a NULL-terminated list of arguments from a mutable copy (args_parse
 * splits NAME=FILE in place). */
static int parse(struct shim_opts *o, const char *env_s, const char *env_d, ...)
{
	va_list ap;
	const char *a;
	int n = 0;
	va_start(ap, env_d);
	argvbuf[n] = strcpy(strs[n], "keyhole-shim"), n++;
	while ((a = va_arg(ap, const char *)) != NULL) {
		argvbuf[n] = strcpy(strs[n], a);
		n++;
	}
	va_end(ap);
	argvbuf[n] = NULL;
	return args_parse(n, argvbuf, env_s, env_d, o, err, sizeof err);
}
#define PARSE(o, env_s, env_d, ...) parse(o, env_s, env_d, __VA_ARGS__, (const char *)NULL)

START_TEST(defaults)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--", "/app", "-x"), 0);
	ck_assert_str_eq(o.socket_path, SHIM_DEFAULT_SOCKET);
	ck_assert_str_eq(o.dir, SHIM_DEFAULT_DIR);
	ck_assert_uint_eq(o.n_want, 0);
	ck_assert(!o.watch && !o.allow_disk && !o.have_user && !o.allow_none && !o.version);
	/* a rotation swaps the files and sends nothing unless asked */
	ck_assert_int_eq(o.rotate, SHIM_ROTATE_NONE);
	ck_assert(!o.rotate_given);
	ck_assert_uint_eq(o.stop_timeout_s, 10);
	ck_assert_uint_eq(o.timeout_s, 10);
	ck_assert_str_eq(o.cmd[0], "/app");
	ck_assert_str_eq(o.cmd[1], "-x");
	ck_assert_ptr_null(o.cmd[2]);
}
END_TEST

START_TEST(environment)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, "/s.sock", "/d", "--", "a"), 0);
	ck_assert_str_eq(o.socket_path, "/s.sock");
	ck_assert_str_eq(o.dir, "/d");
	/* flags beat the environment; empty env values fall back to defaults */
	ck_assert_int_eq(PARSE(&o, "/s.sock", "", "--socket", "/f.sock", "--", "a"), 0);
	ck_assert_str_eq(o.socket_path, "/f.sock");
	ck_assert_str_eq(o.dir, SHIM_DEFAULT_DIR);
}
END_TEST

START_TEST(all_options)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--socket", "/x.sock", "--dir=/run/s", "--user",
			       "1000:2000", "--secret", "db/password=pw", "--secret", "api",
			       "--optional", "extra/tls", "--watch", "--on-rotate", "SIGUSR1",
			       "--timeout", "0", "--allow-disk", "--allow-none", "--stop-timeout",
			       "3", "--", "/bin/app", "--", "--watch"),
			 0);
	ck_assert_str_eq(o.socket_path, "/x.sock");
	ck_assert_str_eq(o.dir, "/run/s");
	ck_assert(o.have_user);
	ck_assert_uint_eq(o.uid, 1000);
	ck_assert_uint_eq(o.gid, 2000);
	ck_assert_uint_eq(o.n_want, 3);
	ck_assert_str_eq(o.want[0].name, "db/password");
	ck_assert_str_eq(o.want[0].file, "pw");
	ck_assert(!o.want[0].optional);
	ck_assert_str_eq(o.want[1].name, "api");
	ck_assert_ptr_null(o.want[1].file);
	ck_assert_str_eq(o.want[2].name, "extra/tls");
	ck_assert(o.want[2].optional);
	ck_assert(o.watch && o.allow_disk && o.allow_none);
	ck_assert_int_eq(o.rotate, SHIM_ROTATE_SIGNAL);
	ck_assert_int_eq(o.rotate_signal, SIGUSR1);
	ck_assert_uint_eq(o.timeout_s, 0);
	ck_assert_uint_eq(o.stop_timeout_s, 3);
	/* everything after the first "--" belongs to CMD */
	ck_assert_str_eq(o.cmd[0], "/bin/app");
	ck_assert_str_eq(o.cmd[1], "--");
	ck_assert_str_eq(o.cmd[2], "--watch");
}
END_TEST

START_TEST(user_gid_defaults_to_uid)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--user", "65534", "--", "a"), 0);
	ck_assert_uint_eq(o.uid, 65534);
	ck_assert_uint_eq(o.gid, 65534);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--user=0:0", "--", "a"), 0);
	ck_assert(o.have_user);
	ck_assert_uint_eq(o.uid, 0);
}
END_TEST

START_TEST(signals)
{
	ck_assert_int_eq(args_signal("HUP"), SIGHUP);
	ck_assert_int_eq(args_signal("SIGTERM"), SIGTERM);
	ck_assert_int_eq(args_signal("10"), 10);
	ck_assert_int_eq(args_signal("restart"), 0);
	ck_assert_int_lt(args_signal("0"), 0);
	ck_assert_int_lt(args_signal("65"), 0);
	ck_assert_int_lt(args_signal("SIGNOPE"), 0);
	ck_assert_int_lt(args_signal("hup"), 0);
	ck_assert_int_lt(args_signal(""), 0);
}
END_TEST

START_TEST(rotate_actions)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--on-rotate", "HUP", "--", "a"), 0);
	ck_assert(o.rotate_given && o.rotate == SHIM_ROTATE_SIGNAL && o.rotate_signal == SIGHUP);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--on-rotate=restart", "--", "a"), 0);
	ck_assert(o.rotate_given && o.rotate == SHIM_ROTATE_RESTART);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--on-rotate", "none", "--", "a"), 0);
	ck_assert(o.rotate_given && o.rotate == SHIM_ROTATE_NONE);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--on-rotate", "PWR", "--", "a"), 0);
	ck_assert_int_eq(o.rotate_signal, SIGPWR);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--stop-timeout=0", "--", "a"), 0);
	ck_assert_uint_eq(o.stop_timeout_s, 0);
}
END_TEST

START_TEST(version_needs_no_cmd)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--version"), 0);
	ck_assert(o.version);
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--watch", "--version", "--", "a"), 0);
	ck_assert(o.version);
}
END_TEST

/* Each row must be refused with -EINVAL and a reason. */
static const char *const bad[][6] = {
	{ "/app" },   /* no "--" */
	{ "--" },     /* no CMD */
	{ "--", "" }, /* empty CMD */
	{ "--bogus", "--", "a" },
	{ "--socket" }, /* missing value */
	{ "--socket", "", "--", "a" },
	{ "--user", "root", "--", "a" }, /* names: no NSS */
	{ "--user", "-1", "--", "a" },
	{ "--user", "4294967295", "--", "a" }, /* (uid_t)-1 */
	{ "--user", "1000:", "--", "a" },
	{ "--user", "1000:abc", "--", "a" },
	{ "--user", "+5", "--", "a" },
	{ "--secret", "../etc/shadow", "--", "a" },
	{ "--secret", "/abs", "--", "a" },
	{ "--secret", "a=../x", "--", "a" }, /* bad file override */
	{ "--secret", "a=.hidden", "--", "a" },
	{ "--secret", "a=", "--", "a" },
	{ "--secret", "a", "--secret", "a", "--", "a" }, /* named twice */
	{ "--optional", "a b", "--", "a" },
	{ "--on-rotate", "BOGUS", "--", "a" },
	{ "--timeout", "-1", "--", "a" },
	{ "--timeout", "86401", "--", "a" },
	{ "--timeout", "1s", "--", "a" },
	{ "--timeout", "99999999999", "--", "a" },
	{ "--stop-timeout", "-1", "--", "a" },
	{ "--stop-timeout", "86401", "--", "a" },
	{ "--stop-timeout", "", "--", "a" },
	{ "--on-rotate", "", "--", "a" },
	{ "--allow-none=1", "--", "a" },
	{ "--watch=1", "--", "a" },
};

START_TEST(refused)
{
	struct shim_opts o;
	char *av[8];
	int ac = 0;
	av[ac++] = strcpy(strs[0], "keyhole-shim");
	for (int i = 0; i < 6 && bad[_i][i]; i++)
		av[ac] = strcpy(strs[ac], bad[_i][i]), ac++;
	av[ac] = NULL;
	err[0] = '\0';
	ck_assert_msg(args_parse(ac, av, NULL, NULL, &o, err, sizeof err) == -EINVAL, "row %d", _i);
	ck_assert_msg(err[0] != '\0', "row %d: no reason", _i);
}
END_TEST

START_TEST(duplicate_file_override)
{
	struct shim_opts o;
	ck_assert_int_eq(PARSE(&o, NULL, NULL, "--secret", "a=f", "--secret", "b=f", "--", "x"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
}
END_TEST

START_TEST(too_many_secrets)
{
	struct shim_opts o;
	static char names[PROTO_MAX_NAMES + 1][16];
	char *av[2 * PROTO_MAX_NAMES + 8];
	int ac = 0;
	av[ac++] = strcpy(strs[0], "keyhole-shim");
	for (unsigned i = 0; i <= PROTO_MAX_NAMES; i++) {
		snprintf(names[i], sizeof names[i], "s%u", i);
		av[ac++] = strcpy(strs[1], "--secret");
		av[ac++] = names[i];
	}
	av[ac++] = strcpy(strs[2], "--");
	av[ac++] = strcpy(strs[3], "a");
	av[ac] = NULL;
	ck_assert_int_eq(args_parse(ac, av, NULL, NULL, &o, err, sizeof err), -EINVAL);
	/* exactly the cap is fine */
	av[2 * PROTO_MAX_NAMES + 1] = av[ac - 2];
	av[2 * PROTO_MAX_NAMES + 2] = av[ac - 1];
	av[2 * PROTO_MAX_NAMES + 3] = NULL;
	ck_assert_int_eq(args_parse(2 * PROTO_MAX_NAMES + 3, av, NULL, NULL, &o, err, sizeof err),
			 0);
	ck_assert_uint_eq(o.n_want, PROTO_MAX_NAMES);
}
END_TEST

START_TEST(set_rules)
{
	struct shim_set s = { NULL, 0 };
	ck_assert_int_eq(set_put(&s, "a", "f", 1, 0400, (const uint8_t *)"x", 1), 0);
	ck_assert_int_eq(set_put(&s, "b", "f", 1, 0400, (const uint8_t *)"y", 1), -EEXIST);
	ck_assert_int_eq(set_put(&s, "a", "f", 2, 0400, (const uint8_t *)"zz", 2), 0);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(set_find(&s, "a")->value_len, 2);
	struct shim_set c;
	ck_assert_int_eq(set_copy(&c, &s), 0);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_ptr_ne(c.s[0].value, s.s[0].value);
	ck_assert_mem_eq(c.s[0].value, "zz", 2);
	ck_assert_uint_eq(set_bytes(&c), 2);
	/* values dropped: entries stay, on disk, nothing held */
	set_drop_values(&s);
	ck_assert(s.s[0].on_disk && s.s[0].value == NULL);
	ck_assert_uint_eq(set_bytes(&s), 0);
	struct shim_set d;
	ck_assert_int_eq(set_copy(&d, &s), 0);
	ck_assert(d.s[0].on_disk && d.s[0].value == NULL && !strcmp(d.s[0].file, "f"));
	/* a pushed value replaces the on-disk entry */
	ck_assert_int_eq(set_put(&d, "a", "f", 3, 0400, (const uint8_t *)"zy", 2), 0);
	ck_assert(!d.s[0].on_disk && d.s[0].value != NULL);
	set_free(&d);
	set_del(&c, "a");
	ck_assert_uint_eq(c.n, 0);
	set_free(&c);
	set_free(&s);
	ck_assert_ptr_null(s.s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("shim_args");
	TCase *tc = tcase_create("args");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, environment);
	tcase_add_test(tc, all_options);
	tcase_add_test(tc, user_gid_defaults_to_uid);
	tcase_add_test(tc, signals);
	tcase_add_test(tc, rotate_actions);
	tcase_add_test(tc, version_needs_no_cmd);
	tcase_add_loop_test(tc, refused, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, duplicate_file_override);
	tcase_add_test(tc, too_many_secrets);
	tcase_add_test(tc, set_rules);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
