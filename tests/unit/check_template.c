/* SPDX-License-Identifier: MIT */
/* agent/template.c: the language (substitution, literal braces, whitespace),
 * each escaping on @:/"'\ controls and UTF-8, parse errors with their exact
 * line:col, and the size caps. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "check_main.h"
#include "policy.h"
#include "template.h"
#include "template_load.h"

static char err[256];

/* Render src with esc, name k = vals[k]; the output (NUL-terminated) or
 * NULL with the error in err / rc. */
static char *render_s(const char *src, enum tmpl_escape esc, const char *const *vals, int *rc)
{
	struct tmpl *t = NULL;
	const uint8_t *v[TMPL_MAX_NAMES];
	size_t l[TMPL_MAX_NAMES], n = 0, bad = 99;
	char *out;

	*rc = tmpl_parse(src, strlen(src), esc, &t, err, sizeof(err));
	if (*rc < 0)
		return NULL;
	for (size_t i = 0; i < t->n_names; i++) {
		v[i] = (const uint8_t *)vals[i];
		l[i] = strlen(vals[i]);
	}
	*rc = tmpl_render_size(t, v, l, &n, &bad);
	if (*rc < 0) {
		tmpl_free(t);
		return NULL;
	}
	out = calloc(1, n + 1);
	ck_assert_ptr_nonnull(out);
	*rc = tmpl_render(t, v, l, (uint8_t *)out, n, &n);
	ck_assert_int_eq(*rc, 0);
	tmpl_free(t);
	return out;
}

static void expect(const char *src, enum tmpl_escape esc, const char *const *vals, const char *want)
{
	int rc;
	char *got = render_s(src, esc, vals, &rc);

	ck_assert_msg(got, "render of '%s' failed: %d %s", src, rc, err);
	ck_assert_str_eq(got, want);
	free(got);
}

static void expect_err(const char *src, const char *want)
{
	struct tmpl *t = NULL;

	ck_assert_int_eq(tmpl_parse(src, strlen(src), TMPL_ESC_NONE, &t, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err, want);
}

static const char *const pw[] = { "p@ss:w/rd\"x'y\\z" };

START_TEST(language)
{
	static const char *const two[] = { "A", "B" };
	struct tmpl *t = NULL;

	expect("plain", TMPL_ESC_NONE, NULL, "plain");
	expect("", TMPL_ESC_NONE, NULL, "");
	expect("a{{secret \"x\"}}b", TMPL_ESC_NONE, two, "aAb");
	expect("{{\n\t secret\n \"x\"  \n}}", TMPL_ESC_NONE, two, "A");
	expect("{{ secret \"x\" }}{{ secret \"y/z\" }}{{ secret \"x\" }}", TMPL_ESC_NONE, two,
	       "ABA");
	/* literal braces: only {{ opens; {{ "{{" }} writes two */
	expect("{{ \"{{\" }} secret \"x\" }} { } }}", TMPL_ESC_NONE, NULL,
	       "{{ secret \"x\" }} { } }}");
	expect("{ {x}", TMPL_ESC_NONE, NULL, "{ {x}");
	/* a literal is not escaped, a value is */
	expect("{{ \"a b\" }}{{ secret \"x\" }}", TMPL_ESC_URL, two, "a bA");
	ck_assert_int_eq(tmpl_parse("{{ secret \"a\" }}{{ secret \"b\" }}{{ secret \"a\" }}", 48,
				    TMPL_ESC_NONE, &t, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(t->n_names, 2);
	ck_assert_str_eq(t->names[0], "a");
	ck_assert_str_eq(t->names[1], "b");
	ck_assert_uint_eq(t->col[1], 27); /* the quoted name */
	tmpl_free(t);
}
END_TEST

START_TEST(escape_none_shell)
{
	static const char *const ctl[] = { "a\nb\tc\x01" };
	static const char *const q[] = { "'" };

	expect("{{ secret \"p\" }}", TMPL_ESC_NONE, pw, pw[0]);
	expect("P={{ secret \"p\" }}", TMPL_ESC_SHELL, pw, "P='p@ss:w/rd\"x'\\''y\\z'");
	expect("{{ secret \"p\" }}", TMPL_ESC_SHELL, ctl, "'a\nb\tc\x01'");
	expect("{{ secret \"p\" }}", TMPL_ESC_SHELL, q, "''\\'''");
	expect("{{ secret \"p\" }}", TMPL_ESC_SHELL, (const char *const[]){ "" }, "''");
	expect("{{ secret \"p\" }}", TMPL_ESC_SHELL, (const char *const[]){ "h\xc3\xa9" },
	       "'h\xc3\xa9'");
}
END_TEST

START_TEST(escape_json)
{
	static const char *const ctl[] = { "\n\r\t\b\f\x01\x1f\x7f" };
	static const char *const utf[] = { "h\xc3\xa9 \xf0\x9f\x94\x91 \xe2\x80\xa8" };
	static const char *const badutf[] = { "a\xc3" };
	int rc;

	expect("{\"pw\": \"{{ secret \"p\" }}\"}", TMPL_ESC_JSON, pw,
	       "{\"pw\": \"p@ss:w/rd\\\"x'y\\\\z\"}");
	expect("{{ secret \"p\" }}", TMPL_ESC_JSON, ctl, "\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f");
	expect("{{ secret \"p\" }}", TMPL_ESC_JSON, utf, "h\xc3\xa9 \xf0\x9f\x94\x91 \\u2028");
	ck_assert_ptr_null(render_s("{{ secret \"p\" }}", TMPL_ESC_JSON, badutf, &rc));
	ck_assert_int_eq(rc, -EILSEQ);
	/* raw bytes are fine in the other modes */
	expect("{{ secret \"p\" }}", TMPL_ESC_NONE, badutf, "a\xc3");
}
END_TEST

START_TEST(escape_url)
{
	static const char *const ctl[] = { "\n\x01 +%~-._" };
	static const char *const utf[] = { "h\xc3\xa9" };

	expect("postgres://app:{{ secret \"p\" }}@db:5432/app", TMPL_ESC_URL, pw,
	       "postgres://app:p%40ss%3Aw%2Frd%22x%27y%5Cz@db:5432/app");
	expect("{{ secret \"p\" }}", TMPL_ESC_URL, ctl, "%0A%01%20%2B%25~-._");
	expect("{{ secret \"p\" }}", TMPL_ESC_URL, utf, "h%C3%A9");
}
END_TEST

START_TEST(errors)
{
	expect_err("a\nb\n0123456789012345{{ secrt \"x\" }}",
		   "3:20: unknown function 'secrt' (only secret \"name\")");
	expect_err("x{{ secret \"a\" ", "1:2: unclosed '{{' (no matching '}}')");
	expect_err("x{{", "1:2: unclosed '{{' (no matching '}}')");
	expect_err("\n  {{ }}", "2:3: empty {{ }}");
	expect_err("{{ secret x }}", "1:11: expected a quoted secret name after 'secret'");
	expect_err("{{ secret \"a\nb\" }}", "1:11: unterminated string");
	expect_err("{{ secret \"../x\" }}", "1:11: invalid secret name \"../x\"");
	expect_err("{{ secret \"a b\" }}", "1:11: invalid secret name \"a b\"");
	expect_err("{{ secret \"a\" x }}", "1:15: expected '}}'");
	expect_err("{{ secret \"a\\\"\" }}",
		   "1:13: no escapes in a quoted string (write '{{' as {{ \"{{\" }})");
	expect_err("{{ 7 }}", "1:4: unexpected '7' in {{ }} (expected secret \"name\")");
	expect_err("h\xc3\xa9\xc3\xa9{{ | }}",
		   "1:7: unexpected '|' in {{ }} (expected secret \"name\")");
	expect_err("ok\n{{ \"lit\" ", "2:1: unclosed '{{' (no matching '}}')");
}
END_TEST

START_TEST(nul_and_caps)
{
	struct tmpl *t = NULL;
	char *big = malloc(TMPL_MAX_BYTES + 2), *val;
	const uint8_t *v[1];
	size_t l[1], n = 0, bad = 0;

	ck_assert_int_eq(tmpl_parse("a\0b", 3, TMPL_ESC_NONE, &t, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "1:2: NUL byte in the template");
	memset(big, 'x', TMPL_MAX_BYTES + 1);
	ck_assert_int_eq(tmpl_parse(big, TMPL_MAX_BYTES + 1, TMPL_ESC_NONE, &t, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "1:1: template larger than 65536 bytes");
	ck_assert_int_eq(tmpl_parse(big, TMPL_MAX_BYTES, TMPL_ESC_NONE, &t, err, sizeof(err)), 0);
	tmpl_free(t);
	/* output cap: a value that fits alone, escaped three times over */
	val = malloc(TMPL_MAX_OUT / 2);
	memset(val, '@', TMPL_MAX_OUT / 2);
	v[0] = (const uint8_t *)val;
	l[0] = TMPL_MAX_OUT / 2;
	ck_assert_int_eq(tmpl_parse("{{ secret \"a\" }}", 16, TMPL_ESC_NONE, &t, err, sizeof(err)),
			 0);
	ck_assert_int_eq(tmpl_render_size(t, v, l, &n, &bad), 0);
	ck_assert_uint_eq(n, TMPL_MAX_OUT / 2);
	t->esc = TMPL_ESC_URL;
	ck_assert_int_eq(tmpl_render_size(t, v, l, &n, &bad), -EFBIG);
	/* too small a buffer is refused, not overrun */
	t->esc = TMPL_ESC_NONE;
	ck_assert_int_eq(tmpl_render(t, v, l, (uint8_t *)big, 10, &n), -ENOBUFS);
	tmpl_free(t);
	/* more distinct names than the cap */
	big[0] = '\0';
	for (unsigned i = 0; i <= TMPL_MAX_NAMES; i++)
		snprintf(big + strlen(big), 64, "{{ secret \"s%u\" }}", i);
	ck_assert_int_eq(tmpl_parse(big, strlen(big), TMPL_ESC_NONE, &t, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "more than 64 distinct secrets"), "%s", err);
	free(val);
	free(big);
}
END_TEST

START_TEST(versions)
{
	struct tmpl *a = NULL, *b = NULL;
	uint64_t v1[2] = { 3, 1 }, v2[2] = { 4, 1 }, v3[2] = { 1, 3 };

	ck_assert_int_eq(tmpl_parse("{{ secret \"a\" }}{{ secret \"b\" }}", 32, TMPL_ESC_NONE, &a,
				    err, sizeof(err)),
			 0);
	ck_assert_int_eq(tmpl_parse("{{ secret \"a\" }}{{ secret \"b\" }}", 32, TMPL_ESC_URL, &b,
				    err, sizeof(err)),
			 0);
	ck_assert_uint_eq(tmpl_version(a, v1), tmpl_version(a, v1));
	ck_assert_uint_ne(tmpl_version(a, v1), tmpl_version(a, v2));
	ck_assert_uint_ne(tmpl_version(a, v1), tmpl_version(a, v3));
	ck_assert_uint_ne(tmpl_version(a, v1), tmpl_version(b, v1)); /* escaping counts */
	ck_assert_uint_ne(tmpl_version(a, v1), 0);
	ck_assert_uint_lt(tmpl_version(a, v1), (uint64_t)1 << 53);
	tmpl_free(a);
	tmpl_free(b);
}
END_TEST

START_TEST(escape_names)
{
	enum tmpl_escape e;

	ck_assert_int_eq(tmpl_escape_from_name("url", &e), 0);
	ck_assert_int_eq(e, TMPL_ESC_URL);
	ck_assert_int_eq(tmpl_escape_from_name("json", &e), 0);
	ck_assert_int_eq(tmpl_escape_from_name("shell", &e), 0);
	ck_assert_int_eq(tmpl_escape_from_name("none", &e), 0);
	ck_assert_int_eq(tmpl_escape_from_name("URL", &e), -EINVAL);
	ck_assert_str_eq(tmpl_escape_name(TMPL_ESC_SHELL), "shell");
}
END_TEST

/* Template grants in a policy: shape errors from policy_parse, then the
 * files read relative to a directory fd (tmpl_policy_load_at). */
static int load(const char *json, int dfd, struct policy **ret)
{
	int r = policy_parse(json, strlen(json), ret, err, sizeof(err));

	if (r == 0 && (r = tmpl_policy_load_at(*ret, dfd, err, sizeof(err))) < 0) {
		policy_free(*ret);
		*ret = NULL;
	}
	return r;
}

#define RULE(grants) "{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[" grants "]}]}"

START_TEST(policy_grants)
{
	char dir[] = "/tmp/check_template.XXXXXX";
	struct policy *p = NULL;
	int dfd;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	f = fopen(strcat(strcpy(err, dir), "/db.tmpl"), "w");
	fputs("u={{ secret \"a\" }}\n", f);
	fclose(f);
	ck_assert_int_eq(fchmodat(dfd, "db.tmpl", 0644, 0), 0);
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\"},{\"template\":\"db.tmpl\",\"escape\":\"url\"}"), dfd,
		     &p),
		0);
	ck_assert_str_eq(p->rules[0].grants[1].secret, "template/db");
	ck_assert_str_eq(p->rules[0].grants[1].file, "db");
	ck_assert_uint_eq(p->rules[0].grants[1].mode, 0400);
	ck_assert_str_eq(p->rules[0].grants[1].tmpl->names[0], "a");
	policy_free(p);
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\"},{\"template\":\"db.tmpl\",\"escape\":\"json\","
			  "\"file\":\"cfg.json\",\"mode\":\"0440\"}"),
		     dfd, &p),
		0);
	ck_assert_str_eq(p->rules[0].grants[1].secret, "template/cfg.json");
	ck_assert_uint_eq(p->rules[0].grants[1].mode, 0440);
	policy_free(p);
	/* shape errors (policy_parse) */
	ck_assert_int_eq(load(RULE("{\"template\":\"db.tmpl\"}"), dfd, &p), -EINVAL);
	ck_assert_str_eq(
		err, "rules[0].grant[0].escape: must be \"none\", \"shell\", \"json\" or \"url\"");
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\",\"template\":\"db.tmpl\",\"escape\":\"url\"}"), dfd,
		     &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "a template grant names no \"secret\""), "%s", err);
	ck_assert_int_eq(load(RULE("{\"secret\":\"a\",\"escape\":\"url\"}"), dfd, &p), -EINVAL);
	ck_assert_str_eq(err, "rules[0].grant[0].escape: only a template grant has one");
	ck_assert_int_eq(load(RULE("{\"template\":\"../db.tmpl\",\"escape\":\"url\"}"), dfd, &p),
			 -EINVAL);
	ck_assert_msg(strstr(err, "must be a file name next to the policy"), "%s", err);
	ck_assert_int_eq(
		load(RULE("{\"template\":\"db.tmpl\",\"escape\":\"url\",\"file\":\"a+b\"}"), dfd,
		     &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "a template's file uses only"), "%s", err);
	/* load errors (tmpl_policy_load_at): the same-rule constraint, names */
	ck_assert_int_eq(load(RULE("{\"template\":\"db.tmpl\",\"escape\":\"url\"}"), dfd, &p),
			 -EINVAL);
	ck_assert_str_eq(
		err,
		"rules[0].grant[0]: db.tmpl:1:13: secret 'a' is not granted by rule 'r' "
		"(a template uses only secrets its own rule grants: add {\"secret\": \"a\"} to it)");
	ck_assert_int_eq(
		load("{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[{\"template\":\"db.tmpl\","
		     "\"escape\":\"url\"}]},{\"name\":\"s\",\"grant\":[{\"secret\":\"a\"}]}]}",
		     dfd, &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "secret 'a' is not granted by rule 'r'"), "%s", err);
	ck_assert_int_eq(
		load("{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[{\"secret\":\"a\"},"
		     "{\"template\":\"db.tmpl\",\"escape\":\"url\"}]},{\"name\":\"s\",\"grant\":"
		     "[{\"secret\":\"template/db\",\"file\":\"db\"}]}]}",
		     dfd, &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "secret 'template/db' is the name of the template grant"), "%s",
		      err);
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\"},{\"template\":\"none.tmpl\",\"escape\":\"url\"}"),
		     dfd, &p),
		-EINVAL);
	ck_assert_str_eq(err, "rules[0].grant[1]: template none.tmpl: No such file or directory");
	ck_assert_int_eq(fchmodat(dfd, "db.tmpl", 0664, 0), 0);
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\"},{\"template\":\"db.tmpl\",\"escape\":\"url\"}"), dfd,
		     &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "db.tmpl: is writable by group or others"), "%s", err);
	ck_assert_int_eq(fchmodat(dfd, "db.tmpl", 0644, 0), 0);
	ck_assert_int_eq(symlinkat("/etc/passwd", dfd, "ln.tmpl"), 0);
	ck_assert_int_eq(
		load(RULE("{\"secret\":\"a\"},{\"template\":\"ln.tmpl\",\"escape\":\"url\"}"), dfd,
		     &p),
		-EINVAL);
	ck_assert_msg(strstr(err, "ln.tmpl: is a symbolic link"), "%s", err);
	unlinkat(dfd, "ln.tmpl", 0);
	unlinkat(dfd, "db.tmpl", 0);
	close(dfd);
	rmdir(dir);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("template");

	tcase_add_test(tc, language);
	tcase_add_test(tc, escape_none_shell);
	tcase_add_test(tc, escape_json);
	tcase_add_test(tc, escape_url);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, nul_and_caps);
	tcase_add_test(tc, versions);
	tcase_add_test(tc, escape_names);
	tcase_add_test(tc, policy_grants);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
