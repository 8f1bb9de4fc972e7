/* SPDX-License-Identifier: MIT */
/* Audit lines: every field present, RFC3339 UTC time, hostile names
 * escaped (one line stays one line), lines appended to a 0600 file. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "audit.h"

static json_t *line_json(const char *s)
{
	json_t *o;

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_gt(strlen(s), 1);
	ck_assert_int_eq(s[strlen(s) - 1], '\n');
	ck_assert_ptr_eq(strchr(s, '\n'), s + strlen(s) - 1); /* exactly one line */
	o = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(o);
	return o;
}

START_TEST(format_container_release)
{
	struct peer pe = { .pid = 77, .uid = 1000, .gid = 100, .pidfd = -1 };
	struct container_meta m = { .name = "web\n{\"decision\":\"release\"}", .image = "img:1" };
	struct policy_identity id = { &pe, &m, NULL, NULL };
	struct audit_event ev = { &id, "rule-a", "db/pass", 3, AUDIT_RELEASE, NULL };
	struct timespec ts = { 1700000000, 123456789 };
	char *s;
	json_t *o;

	pe.cg.runtime = RT_DOCKER;
	strcpy(pe.cg.id, "ab");
	s = audit_format(&ev, &ts);
	o = line_json(s);
	ck_assert_str_eq(json_string_value(json_object_get(o, "time")), "2023-11-14T22:13:20.123Z");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "pid")), 77);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "uid")), 1000);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "gid")), 100);
	ck_assert_str_eq(json_string_value(json_object_get(o, "runtime")), "docker");
	ck_assert_str_eq(json_string_value(json_object_get(o, "container_id")), "ab");
	ck_assert_str_eq(json_string_value(json_object_get(o, "name")), m.name);
	ck_assert_str_eq(json_string_value(json_object_get(o, "image")), "img:1");
	ck_assert_str_eq(json_string_value(json_object_get(o, "rule")), "rule-a");
	ck_assert_str_eq(json_string_value(json_object_get(o, "secret")), "db/pass");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(o, "decision")), "release");
	ck_assert(json_is_null(json_object_get(o, "reason")));
	ck_assert_ptr_null(json_object_get(o, "value"));
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(format_no_identity)
{
	struct audit_event ev = { NULL, NULL, NULL, 0, AUDIT_REFUSE, "attestation failed" };
	struct timespec ts = { 0, 0 };
	char *s = audit_format(&ev, &ts);
	json_t *o = line_json(s);

	ck_assert(json_is_null(json_object_get(o, "pid")));
	ck_assert(json_is_null(json_object_get(o, "version")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "decision")), "refuse");
	ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "attestation failed");
	ck_assert_str_eq(json_string_value(json_object_get(o, "time")), "1970-01-01T00:00:00.000Z");
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(decision_names)
{
	ck_assert_str_eq(audit_decision_name(AUDIT_DENY), "deny");
	ck_assert_str_eq(audit_decision_name(AUDIT_REVOKE), "revoke");
	ck_assert_str_eq(audit_decision_name(AUDIT_PUSH), "push");
	ck_assert_str_eq(audit_decision_name(AUDIT_RELEASE), "release");
}
END_TEST

START_TEST(write_appends_0600)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], buf[4096];
	struct peer pe = { .pid = 1, .pidfd = -1 };
	struct policy_identity id = { &pe, NULL, NULL, NULL };
	struct audit_event ev = { &id, "r", "s", 1, AUDIT_DENY, "not in store" };
	struct audit *a = NULL;
	struct stat st;
	FILE *f;
	int lines = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	ck_assert_int_eq(audit_open(path, &a), 0);
	ck_assert_int_eq(audit_write(a, &ev), 0);
	ck_assert_int_eq(audit_write(a, &ev), 0);
	audit_close(a);
	ck_assert_int_eq(audit_open(path, &a), 0); /* reopen appends */
	ck_assert_int_eq(audit_write(a, &ev), 0);
	audit_close(a);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	while (fgets(buf, sizeof(buf), f)) {
		json_t *o = line_json(buf);
		ck_assert_str_eq(json_string_value(json_object_get(o, "reason")), "not in store");
		json_decref(o);
		lines++;
	}
	fclose(f);
	ck_assert_int_eq(lines, 3);
	unlink(path);
	rmdir(dir);
	ck_assert_int_lt(audit_open("/nonexistent-dir/x/audit.log", &a), 0);
}
END_TEST

static int count_lines(const char *path, const char *needle)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(buf, sizeof(buf), f))
		n += strstr(buf, needle) != NULL;
	fclose(f);
	return n;
}

/* A flood of refusals and denials from one identity: the first refusal
 * and AUDIT_DENY_BUDGET denials per window are written, the rest counted
 * into one summary line; another identity and releases are unaffected. */
START_TEST(refusals_aggregated)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], cmd[96];
	struct peer flood = { .pid = 7, .uid = 65534, .pidfd = -1 },
		    root = { .pid = 8, .pidfd = -1 };
	struct policy_identity fid = { &flood, NULL, NULL, NULL },
			       rid = { &root, NULL, NULL, NULL };
	struct audit_event refuse = { &fid, NULL, NULL, 0, AUDIT_REFUSE, "rate limited" };
	struct audit_event deny = { &fid, NULL, "x", 0, AUDIT_DENY, "no rule" };
	struct audit_event rel = { &rid, "r", "s", 1, AUDIT_RELEASE, NULL };
	struct audit_event rref = { &rid, NULL, NULL, 0, AUDIT_REFUSE, "rate limited" };
	struct audit *a = NULL;

	flood.cg.runtime = RT_HOST;
	root.cg.runtime = RT_HOST;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	ck_assert_int_eq(audit_open(path, &a), 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(audit_write_at(a, &refuse, 1000 + (uint64_t)i), 0);
		ck_assert_int_eq(audit_write_at(a, &deny, 1000 + (uint64_t)i), 0);
		ck_assert_int_eq(audit_write_at(a, &rel, 1000 + (uint64_t)i), 0);
	}
	ck_assert_int_eq(audit_write_at(a, &rref, 1500), 0); /* root's own first refusal */
	ck_assert(audit_flush(a, 5000));		     /* window not over: pending */
	ck_assert_int_eq(count_lines(path, "\"decision\":\"summary\""), 0);
	ck_assert(!audit_flush(a, 1000 + AUDIT_WINDOW_MS));
	ck_assert_int_eq(count_lines(path, "\"decision\":\"refuse\""), 2);
	ck_assert_int_eq(count_lines(path, "\"decision\":\"deny\""), (int)AUDIT_DENY_BUDGET);
	ck_assert_int_eq(count_lines(path, "\"decision\":\"release\""), 1000);
	ck_assert_int_eq(count_lines(path, "host:uid:65534: 999 refusals and 968 denials"), 1);
	/* a new window writes the first refusal again */
	ck_assert_int_eq(audit_write_at(a, &refuse, 30000), 0);
	ck_assert_int_eq(count_lines(path, "\"decision\":\"refuse\""), 3);
	audit_close(a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Held lines reach the file only at audit_release, all of them; a failed
 * write is reported by audit_release (the pushes it vouched for are not
 * sent). */
START_TEST(hold_then_release)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], buf[4096];
	struct peer pe = { .pid = 1, .pidfd = -1 };
	struct policy_identity id = { &pe, NULL, NULL, NULL };
	struct audit_event ev = { &id, "r", "s", 2, AUDIT_PUSH, NULL };
	struct audit *a = NULL;
	struct stat st;
	FILE *f;
	int lines = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	ck_assert_int_eq(audit_open(path, &a), 0);
	audit_hold(a);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(audit_write(a, &ev), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 0); /* nothing written while held */
	ck_assert_int_eq(audit_release(a), 0);
	ck_assert_int_eq(audit_write(a, &ev), 0); /* not held: written at once */
	audit_close(a);
	f = fopen(path, "r");
	while (fgets(buf, sizeof(buf), f)) {
		json_t *o = line_json(buf);
		ck_assert_str_eq(json_string_value(json_object_get(o, "decision")), "push");
		json_decref(o);
		lines++;
	}
	fclose(f);
	ck_assert_int_eq(lines, 101);
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(audit_open("/dev/full", &a), 0);
	audit_hold(a);
	ck_assert_int_eq(audit_write(a, &ev), 0);
	ck_assert_int_eq(audit_release(a), -ENOSPC);
	ck_assert_int_eq(audit_release(a), 0); /* nothing held any more */
	audit_close(a);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *t = tcase_create("audit");

	umask(022); /* the file must be 0600 regardless */
	tcase_add_test(t, format_container_release);
	tcase_add_test(t, format_no_identity);
	tcase_add_test(t, decision_names);
	tcase_add_test(t, write_appends_0600);
	tcase_add_test(t, refusals_aggregated);
	tcase_add_test(t, hold_then_release);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(make_suite)
