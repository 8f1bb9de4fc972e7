/* SPDX-License-Identifier: MIT */
/* The scanner over the tests/scan corpus (every true positive with its line,
 * name and rule; no false positives: exact counts), heuristics tables
 * (placeholders, name patterns, token formats, entropy), Dockerfile and
 * compose corner cases, masking, and the shape of the JSON/SARIF reports
 * (and that no value ever appears in any report). */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "scan.h"

static char *slurp(const char *rel, size_t *len)
{
	const char *root = getenv("KH_ROOT");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/scan/%s", root ? root : ".", rel);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int scan_file(struct scan_result *r, const char *rel)
{
	size_t len;
	char *b = slurp(rel, &len);
	int e = scan_buffer(r, rel, SCAN_T_AUTO, b, len);
	free(b);
	return e;
}

static int scan_str(struct scan_result *r, const char *name, enum scan_type t, const char *s)
{
	return scan_buffer(r, name, t, s, strlen(s));
}

static const struct scan_finding *find(const struct scan_result *r, unsigned line, const char *name,
				       enum scan_rule rule)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].line == line && r->f[i].rule == rule &&
		    (name ? r->f[i].name && !strcmp(r->f[i].name, name) : !r->f[i].name))
			return &r->f[i];
	return NULL;
}

struct expect {
	unsigned line;
	const char *name;
	enum scan_rule rule;
};

static void check_corpus(const char *file, const struct expect *x, size_t n)
{
	struct scan_result r;

	scan_result_init(&r);
	ck_assert_int_eq(scan_file(&r, file), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(find(&r, x[i].line, x[i].name, x[i].rule), "%s:%u %s %s missing",
			      file, x[i].line, x[i].name ? x[i].name : "-",
			      scan_rule_name(x[i].rule));
	ck_assert_msg(r.n == n, "%s: %zu findings, want %zu", file, r.n, n);
	scan_result_free(&r);
}

START_TEST(corpus_dockerfile)
{
	static const struct expect x[] = {
		{ 4, "AWS_ACCESS_KEY_ID", SCAN_R_TOKEN }, /* continuation: FROM line 4 */
		{ 7, "GITHUB_TOKEN", SCAN_R_TOKEN },	  /* ARG default */
		{ 9, "NPM_AUTH", SCAN_R_NAME },		  /* RUN export */
		{ 9, "/root/.slack", SCAN_R_TOKEN },	  /* RUN echo > file */
		{ 16, "DB_PASSWORD", SCAN_R_NAME },	  /* ENV K="v" K2=v */
		{ 17, "API_KEY", SCAN_R_NAME },		  /* legacy ENV K V */
		{ 18, "DATABASE_URL", SCAN_R_URL_CRED },
		{ 20, NULL, SCAN_R_ADD_URL },
		{ 13, NULL, SCAN_R_ROOT_USER }, /* final stage has no USER */
		{ 23, NULL, SCAN_R_EXPOSE },
	};
	struct scan_result r;

	check_corpus("Dockerfile.multistage", x, sizeof x / sizeof x[0]);
	scan_result_init(&r);
	ck_assert_int_eq(scan_file(&r, "Dockerfile.multistage"), 0);
	ck_assert_uint_eq(find(&r, 4, "AWS_ACCESS_KEY_ID", SCAN_R_TOKEN)->src, SCAN_SRC_ENV);
	ck_assert_uint_eq(find(&r, 4, "AWS_ACCESS_KEY_ID", SCAN_R_TOKEN)->end_line, 6);
	ck_assert_uint_eq(find(&r, 7, "GITHUB_TOKEN", SCAN_R_TOKEN)->src, SCAN_SRC_ARG);
	ck_assert_uint_eq(r.entrypoint_line, 24);
	ck_assert_uint_eq(r.final_from_line, 13);
	ck_assert_str_eq(find(&r, 16, "DB_PASSWORD", SCAN_R_NAME)->value, "s3cr3t-Pr0d-pa55!");
	ck_assert_str_eq(find(&r, 17, "API_KEY", SCAN_R_NAME)->value, "c8Fq2LmZ9tRw4XyB7nK1pV6s");
	scan_result_free(&r);
}
END_TEST

START_TEST(corpus_compose_env_inspect)
{
	static const struct expect compose[] = {
		{ 11, "DB_PASSWORD", SCAN_R_NAME },   { 12, "STRIPE_API_KEY", SCAN_R_TOKEN },
		{ 13, "REDIS_URL", SCAN_R_URL_CRED }, { 25, "GITLAB_TOKEN", SCAN_R_TOKEN },
		{ 21, NULL, SCAN_R_PRIVILEGED },      { 22, NULL, SCAN_R_HOST_NS },
		{ 30, NULL, SCAN_R_HOST_NS },
	};
	static const struct expect env[] = {
		{ 3, "SMTP_PASSWORD", SCAN_R_NAME },
		{ 4, "OPENAI_API_KEY", SCAN_R_TOKEN },
		{ 5, "TLS_KEY", SCAN_R_PRIVATE_KEY },
		{ 9, "JWT_SIGNING", SCAN_R_ENTROPY },
	};
	static const struct expect insp[] = {
		{ 19, "STRIPE_SECRET", SCAN_R_TOKEN },
		{ 20, "AWS_SECRET_ACCESS_KEY", SCAN_R_NAME },
		{ 25, "com.acme.deploy-token", SCAN_R_TOKEN },
		{ 12, NULL, SCAN_R_ROOT_USER },
		{ 13, NULL, SCAN_R_EXPOSE },
		{ 7, NULL, SCAN_R_HOST_NS },
	};
	struct scan_result r;

	check_corpus("compose.yml", compose, sizeof compose / sizeof compose[0]);
	check_corpus("app.env", env, sizeof env / sizeof env[0]);
	check_corpus("billing-inspect.json", insp, sizeof insp / sizeof insp[0]);
	scan_result_init(&r);
	ck_assert_int_eq(scan_file(&r, "compose.yml"), 0);
	ck_assert_uint_eq(r.n_refs, 2);
	ck_assert_str_eq(r.refs[0].path, "./app.env");
	ck_assert_str_eq(r.refs[0].service, "web");
	ck_assert_uint_eq(r.refs[0].line, 16);
	ck_assert_str_eq(r.refs[1].path, "missing.env");
	ck_assert_str_eq(find(&r, 25, "GITLAB_TOKEN", SCAN_R_TOKEN)->service, "worker");
	ck_assert_uint_eq(r.n_services, 3);
	ck_assert_str_eq(r.services[2].image, "postgres:16");
	scan_result_free(&r);
	scan_result_init(&r);
	ck_assert_int_eq(scan_file(&r, "app.env"), 0);
	ck_assert_uint_eq(find(&r, 5, "TLS_KEY", SCAN_R_PRIVATE_KEY)->end_line, 7);
	ck_assert_str_eq(find(&r, 3, "SMTP_PASSWORD", SCAN_R_NAME)->value, "m41l-Pa55word");
	scan_result_free(&r);
}
END_TEST

START_TEST(corpus_false_positives)
{
	static const char *const clean[] = { "Dockerfile.clean", "clean.env", "clean-compose.yml" };

	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		struct scan_result r;
		scan_result_init(&r);
		ck_assert_int_eq(scan_file(&r, clean[i]), 0);
		ck_assert_msg(r.n == 0, "%s: %zu findings, first line %u %s", clean[i], r.n,
			      r.n ? r.f[0].line : 0, r.n && r.f[0].name ? r.f[0].name : "-");
		scan_result_free(&r);
	}
}
END_TEST

START_TEST(broken_inputs)
{
	struct scan_result r;

	scan_result_init(&r);
	ck_assert_int_eq(scan_file(&r, "broken-compose.yml"), -EBADMSG);
	ck_assert_int_eq(scan_str(&r, "x.json", SCAN_T_INSPECT, "[{\"Config\": "), -EBADMSG);
	ck_assert_int_eq(scan_str(&r, "x.json", SCAN_T_INSPECT, "42"), -EBADMSG);
	ck_assert_int_eq(scan_str(&r, ".env", SCAN_T_ENV, "A=\"never closed\n"), -EBADMSG);
	ck_assert_int_eq(scan_buffer(&r, "x", SCAN_T_ENV, "", SCAN_MAX_INPUT + 1), -E2BIG);
	ck_assert_uint_eq(r.n, 0);
	scan_result_free(&r);
}
END_TEST

START_TEST(placeholders)
{
	static const char *const yes[] = { "",
					   "changeme",
					   "CHANGEME",
					   "${VAR}",
					   "$VAR",
					   "${DB:-x}",
					   "<your-token>",
					   "xxx",
					   "xxxxxxxx",
					   "****",
					   "example",
					   "my-example-password",
					   "dummy",
					   "your_api_key_here",
					   "REPLACE_ME",
					   "{{ .Values.token }}",
					   "null",
					   "  changeme " };
	static const char *const no[] = { "hunter2", "s3cr3t-Pr0d-pa55!", "ghp_x", "Tr0ub4dor&3",
					  "xyzzy42" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(scan_is_placeholder(yes[i], strlen(yes[i])), "'%s'", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!scan_is_placeholder(no[i], strlen(no[i])), "'%s'", no[i]);
}
END_TEST

START_TEST(name_patterns)
{
	static const char *const yes[] = {
		"PASSWORD",	 "DB_PASSWORD",	    "MYSQL_ROOT_PASSWD", "PWD",
		"CLIENT_SECRET", "GH_TOKEN",	    "API_KEY",		 "APIKEY",
		"STRIPE_KEY",	 "AWS_CREDENTIALS", "BASIC_AUTH",	 "dbPassword",
		"ACCESS_KEY",	 "NPM_AUTH",	    "PRIVATE_KEY"
	};
	static const char *const no[] = { "KEYBOARD_LAYOUT", "PUBLIC_KEY",    "AUTHOR",
					  "KEY_ID",	     "PASSWORD_FILE", "TOKEN_TTL",
					  "AUTH_URL",	     "AUTH_ENABLED",  "API_KEY_HEADER",
					  "MONKEY",	     "HOSTNAME",      "PASSPORT_NUMBER",
					  "TOKENIZER_PATH",  "SECRET_NAME",   NULL };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(scan_name_is_credential(yes[i]), "%s", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!scan_name_is_credential(no[i]), "%s", no[i] ? no[i] : "NULL");
}
END_TEST

struct tok {
	const char *v;
	bool hit;
	enum scan_rule rule;
};

START_TEST(token_formats)
{
	static const struct tok t[] = {
		{ "AKIA2QX7TLM4RZK9WB3E", true, SCAN_R_TOKEN },
		{ "ASIA2QX7TLM4RZK9WB3E", true, SCAN_R_TOKEN },
		{ "AKIA2QX7TLM4RZK9WB3", false, SCAN_R_TOKEN },	  /* 15 after prefix */
		{ "AKIA2QX7TLM4RZK9WB3EX", false, SCAN_R_TOKEN }, /* 17 */
		{ "ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi", true, SCAN_R_TOKEN },
		{ "gho_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi", true, SCAN_R_TOKEN },
		{ "ghp_short", false, SCAN_R_TOKEN },
		{ "github_pat_11ABCDEFG0123456789abcdefghij_klm", true, SCAN_R_TOKEN },
		{ "glpat-xY7zQ2mN9pL4rT6vW8bC", true, SCAN_R_TOKEN },
		{ "xoxb-1234567890-0987654321-AbCd", true, SCAN_R_TOKEN },
		{ "xoxp-1234567890-abc", true, SCAN_R_TOKEN },
		{ "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blb\n-----END OPENSSH PRIVATE KEY-----",
		  true, SCAN_R_PRIVATE_KEY },
		{ "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", false,
		  SCAN_R_TOKEN },
		{ "postgres://app:Hunter2@db/app", true, SCAN_R_URL_CRED },
		{ "https://user@host/x", false, SCAN_R_URL_CRED },
		{ "https://host:8443/x@y", false, SCAN_R_URL_CRED },
		{ "amqp://guest:${RABBIT_PW}@mq", false, SCAN_R_URL_CRED },
		{ "Zx8Kq2Lm9Rt4Wv7Bn1Cy6Hd3Pf5Sj0Ae", true, SCAN_R_ENTROPY },
		{ "3f9a1c2e8b7d6f5a4c3b2a1908f7e6d5c4b3a291", false, SCAN_R_ENTROPY }, /* git sha */
		{ "Hello World This Is Long Text 123", false, SCAN_R_ENTROPY },
		{ "/usr/Local/Bin9/aBcDeFgHiJkLmNoP", false, SCAN_R_ENTROPY },
	};
	char why[160];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		enum scan_rule rule = SCAN_R_COUNT;
		bool hit =
			scan_classify("SOME_VAR", t[i].v, strlen(t[i].v), &rule, why, sizeof why);
		ck_assert_msg(hit == t[i].hit, "%zu: %s", i, t[i].v);
		if (hit) {
			ck_assert_msg(rule == t[i].rule, "%zu: rule %s", i, scan_rule_name(rule));
			ck_assert_ptr_null(strstr(why, t[i].v));
		}
	}
}
END_TEST

/* Well-known token formats with distinctive prefixes: each has a positive
 * and negatives (too short, too long for fixed lengths, placeholder body).
 * want: SCAN_R_TOKEN, SCAN_R_TEST_TOKEN (test-mode keys, lower level), or
 * SCAN_R_COUNT = must not be reported as a token of any kind. */
struct fmt {
	const char *v;
	enum scan_rule want;
	const char *what;
};

static const struct fmt fmts[] = {
	{ "sk_live_CGRlrwZbqcabUGJmGEp7CgQ0", SCAN_R_TOKEN, "Stripe" },
	{ "rk_live_9aB8cD7eF6gH5iJ4kL3m", SCAN_R_TOKEN, "Stripe" },
	{ "sk_test_76rNicHTp8hkqdlm7tOtHWns", SCAN_R_TEST_TOKEN, "Stripe" },
	{ "rk_test_PBQFI14zGtSnovm14TUOizwd", SCAN_R_TEST_TOKEN, "Stripe" },
	{ "sk_live_short", SCAN_R_COUNT, NULL },
	{ "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", SCAN_R_COUNT, NULL },
	{ "sk_live_YOUR_STRIPE_KEY_HERE_0000", SCAN_R_COUNT, NULL },
	{ "AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyV", SCAN_R_TOKEN, "Google" },
	{ "AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxny", SCAN_R_COUNT, NULL },   /* 34 */
	{ "AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVQ", SCAN_R_COUNT, NULL }, /* 36 */
	{ "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", SCAN_R_COUNT, NULL },
	{ "npm_gJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCs", SCAN_R_TOKEN, "npm" },
	{ "npm_9f8e7d6c5b4a", SCAN_R_COUNT, NULL },
	{ "pypi-AgEIcHlwaS5vcmcjp1vRt-1fjORS_6ilI8ihN5KXSc7Tvo_hBKqFYY_kv5ZJr3J1TWDtkwtDDb-",
	  SCAN_R_TOKEN, "PyPI" },
	{ "pypi-AgEIcHlwaS5vcmcjp1vRt-1fjORS", SCAN_R_COUNT, NULL },
	{ "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", SCAN_R_TOKEN,
	  "SendGrid" },
	{ "SG.xHKas1VOqg6YYZYn9ZhyiA.4uoRgnatmUdjAWtGSU8po", SCAN_R_COUNT, NULL },
	{ "SG.example", SCAN_R_COUNT, NULL },
	{ "SKb7a767c76fb008f86bebb2737f6a6f0f", SCAN_R_TOKEN, "Twilio" },
	{ "SKb7a767c76fb008f86bebb2737f6a6f0", SCAN_R_COUNT, NULL },   /* 31 hex */
	{ "SKb7a767c76fb008f86bebb2737f6a6f0fz", SCAN_R_COUNT, NULL }, /* runs on */
	{ "SK00000000000000000000000000000000", SCAN_R_COUNT, NULL },
	{ "sk-proj-SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc", SCAN_R_TOKEN, "OpenAI" },
	{ "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", SCAN_R_TOKEN, "OpenAI" },
	{ "sk-proj-short", SCAN_R_COUNT, NULL },
	{ "sk-5TY4MyWuUFjsUNPjc01T5GOBUSZGi6HWGK10Zb0RLZ5TR9SP", SCAN_R_COUNT,
	  NULL }, /* bare sk- */
	{ "sk-ant-api03-i4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY-uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt_"
	  "PlJhx2jIclHkCiHp6bR1",
	  SCAN_R_TOKEN, "Anthropic" },
	{ "sk-ant-api03-short", SCAN_R_COUNT, NULL },
	{ "dckr_pat_qbjG3uhkWKFLf6xuI5aHUQPFeNB", SCAN_R_TOKEN, "Docker" },
	{ "dckr_pat_", SCAN_R_COUNT, NULL },
	{ "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", SCAN_R_TOKEN, "Hugging Face" },
	{ "hf_wlavyfErGPmpGXafqfjzLczbttOofLHWj", SCAN_R_COUNT, NULL },
	{ "AKIAIOSFODNN7EXAMPLE", SCAN_R_COUNT, NULL }, /* AWS's documented example */
	{ "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", SCAN_R_COUNT, NULL },
};

static bool is_token_rule(enum scan_rule r)
{
	return r == SCAN_R_TOKEN || r == SCAN_R_TEST_TOKEN;
}

START_TEST(token_formats_well_known)
{
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		const struct fmt *t = &fmts[i];
		enum scan_rule rule = SCAN_R_COUNT;
		char why[160] = "";
		bool hit = scan_classify("SOME_VAR", t->v, strlen(t->v), &rule, why, sizeof why);
		if (t->want == SCAN_R_COUNT) {
			ck_assert_msg(!hit || !is_token_rule(rule),
				      "%zu: %s taken for a token (%s)", i, t->v, why);
			continue;
		}
		ck_assert_msg(hit && rule == t->want, "%zu: %s: hit %d rule %s", i, t->v, hit,
			      hit ? scan_rule_name(rule) : "-");
		ck_assert_msg(strstr(why, t->what) != NULL, "%zu: reason '%s'", i, why);
		ck_assert_ptr_null(strstr(why, t->v));
	}
	/* test-mode keys are reported at a lower level than live ones */
	ck_assert_str_eq(scan_rule_level(SCAN_R_TOKEN), "error");
	ck_assert_str_eq(scan_rule_level(SCAN_R_TEST_TOKEN), "warning");
	ck_assert(!scan_rule_is_posture(SCAN_R_TEST_TOKEN));
}
END_TEST

/* The same values in a .env (name-agnostic) and in free text (RUN): found,
 * and masked in every report. */
START_TEST(token_formats_masked_in_reports)
{
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
		const struct fmt *t = &fmts[i];
		struct scan_result r;
		char in[512], *rep[3];
		if (t->want == SCAN_R_COUNT)
			continue;
		scan_result_init(&r);
		snprintf(in, sizeof in, "CONF=%s\n", t->v);
		ck_assert_int_eq(scan_str(&r, ".env", SCAN_T_ENV, in), 0);
		snprintf(in, sizeof in, "FROM x\nUSER app\nRUN curl -H \"X-Key: %s\" https://h/\n",
			 t->v);
		ck_assert_int_eq(scan_str(&r, "Dockerfile", SCAN_T_DOCKERFILE, in), 0);
		ck_assert_msg(r.n == 2, "%zu: %zu findings", i, r.n);
		ck_assert_int_eq(r.f[0].rule, t->want);
		ck_assert_int_eq(r.f[1].rule, t->want);
		ck_assert_str_eq(r.f[1].value, t->v); /* the token, not the RUN line */
		rep[0] = scan_report_table(&r);
		rep[1] = scan_report_json(&r);
		rep[2] = scan_report_sarif(&r, "1");
		for (size_t k = 0; k < 3; k++) {
			ck_assert_ptr_nonnull(rep[k]);
			ck_assert_msg(strstr(rep[k], t->v) == NULL, "%zu: value in report %zu", i,
				      k);
			ck_assert_ptr_nonnull(strstr(rep[k], r.f[0].masked));
			free(rep[k]);
		}
		scan_result_free(&r);
	}
}
END_TEST

/* KH201: a final stage without USER is fine when its entrypoint is
 * keyhole-shim dropping to a non-root --user; not otherwise. */
START_TEST(root_user_and_shim)
{
	static const struct {
		const char *df;
		bool root;
	} c[] = {
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"1000\", \"--\", \"app\"]\n",
		  false },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--watch\", \"--user=1000:1000\", \"--\", \"app\"]\n",
		  false },
		{ "FROM c\nENTRYPOINT /usr/local/bin/keyhole-shim --user 1000:100 -- app\n",
		  false },
		{ "FROM c\nUSER root\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"1000\", \"--\", \"app\"]\n",
		  false },
		{ "FROM c\nCMD [\"/keyhole-shim\", \"--user\", \"65534\", \"--\", \"app\"]\n",
		  false },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--\", \"app\"]\n", true },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"0\", \"--\", \"app\"]\n",
		  true },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"0:1000\", \"--\", \"app\"]\n",
		  true },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"app\", \"--\", \"app\"]\n",
		  true },
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--\", \"app\", \"--user\", \"1000\"]\n",
		  true },
		{ "FROM c\nENTRYPOINT [\"/usr/bin/gosu\", \"--user\", \"1000\", \"app\"]\n", true },
		{ "FROM c\nENTRYPOINT [\"/not-keyhole-shim\", \"--user\", \"1000\", \"--\", \"app\"]\n",
		  true },
		/* a later ENTRYPOINT replaces the shim's */
		{ "FROM c\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"1000\", \"--\", \"app\"]\n"
		  "ENTRYPOINT [\"app\"]\n",
		  true },
		/* the shim in a builder stage does not count */
		{ "FROM a\nENTRYPOINT [\"/keyhole-shim\", \"--user\", \"1000\", \"--\", \"app\"]\n"
		  "FROM c\n",
		  true },
		/* CMD is the shim's argument list when ENTRYPOINT is something else */
		{ "FROM c\nENTRYPOINT [\"tini\", \"--\"]\nCMD [\"/keyhole-shim\", \"--user\", \"1000\"]\n",
		  true },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct scan_result r;
		scan_result_init(&r);
		ck_assert_int_eq(scan_str(&r, "Dockerfile", SCAN_T_DOCKERFILE, c[i].df), 0);
		ck_assert_msg((r.n == 1 && r.f[0].rule == SCAN_R_ROOT_USER) == c[i].root &&
				      r.n == (c[i].root ? 1u : 0u),
			      "%zu: %zu findings, want root=%d", i, r.n, c[i].root);
		scan_result_free(&r);
	}
}
END_TEST

/* The same for an image config (inspect JSON): Entrypoint/Cmd arrays. */
START_TEST(root_user_and_shim_inspect)
{
	static const struct {
		const char *js;
		bool root;
	} c[] = {
		{ "{\"Config\":{\"User\":\"\",\"Entrypoint\":[\"/keyhole-shim\",\"--user\",\"1000\","
		  "\"--\"],\"Cmd\":[\"app\"]}}",
		  false },
		{ "{\"Config\":{\"User\":\"\",\"Entrypoint\":null,\"Cmd\":[\"/keyhole-shim\","
		  "\"--user=1000\",\"--\",\"app\"]}}",
		  false },
		{ "{\"Config\":{\"User\":\"\",\"Entrypoint\":[\"/keyhole-shim\",\"--\"],"
		  "\"Cmd\":[\"app\"]}}",
		  true },
		{ "{\"Config\":{\"User\":\"root\",\"Entrypoint\":[\"/keyhole-shim\",\"--user\",\"0\"]}}",
		  true },
		{ "{\"Config\":{\"User\":\"\",\"Entrypoint\":[\"sh\",\"-c\"],\"Cmd\":[\"/keyhole-shim\","
		  "\"--user\",\"1000\"]}}",
		  true },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct scan_result r;
		scan_result_init(&r);
		ck_assert_int_eq(scan_str(&r, "i.json", SCAN_T_INSPECT, c[i].js), 0);
		ck_assert_msg((find(&r, 1, NULL, SCAN_R_ROOT_USER) != NULL) == c[i].root,
			      "%zu: %zu findings, want root=%d", i, r.n, c[i].root);
		scan_result_free(&r);
	}
}
END_TEST

START_TEST(entropy_values)
{
	ck_assert(scan_entropy("aaaa", 4) == 0.0);
	ck_assert(scan_entropy("abcd", 4) > 1.9999 && scan_entropy("abcd", 4) < 2.0001);
	ck_assert(scan_entropy("0123456789abcdef", 16) > 3.9999);
	ck_assert(scan_entropy("0123456789abcdef", 16) < 4.0001);
	ck_assert(scan_entropy("aab", 3) > 0.918 && scan_entropy("aab", 3) < 0.919);
}
END_TEST

START_TEST(masking)
{
	char *m = scan_mask("hunter2", 7);

	ck_assert_str_eq(m, "\xe2\x80\xa6(7)");
	free(m);
	m = scan_mask("ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi", 40);
	ck_assert_str_eq(m, "gh\xe2\x80\xa6(40)");
	free(m);
	m = scan_mask("\x01\x02"
		      "0123456789abcdefgh",
		      20);
	ck_assert_str_eq(m, "??\xe2\x80\xa6(20)");
	free(m);
}
END_TEST

START_TEST(dockerfile_cases)
{
	struct scan_result r;

	scan_result_init(&r);
	/* builder without USER, final stage with USER: clean */
	ck_assert_int_eq(scan_str(&r, "D1", SCAN_T_DOCKERFILE,
				  "FROM a AS b\nRUN make\nFROM c\nUSER 1000:1000\n"),
			 0);
	ck_assert_uint_eq(r.n, 0);
	/* builder USER app, final stage USER 0:0 */
	ck_assert_int_eq(
		scan_str(&r, "D2", SCAN_T_DOCKERFILE, "FROM a AS b\nUSER app\nFROM c\nuser 0:0\n"),
		0);
	ck_assert_ptr_nonnull(find(&r, 4, NULL, SCAN_R_ROOT_USER));
	/* escape directive, comment inside a continuation, line reported */
	ck_assert_int_eq(scan_str(&r, "D3", SCAN_T_DOCKERFILE,
				  "# escape=`\nFROM c\nUSER app\nENV A=1 `\n# note\n"
				  "    SECRET_KEY=Zz9yYx8wWv7u `\n    B=2\n"),
			 0);
	ck_assert_ptr_nonnull(find(&r, 4, "SECRET_KEY", SCAN_R_NAME));
	ck_assert_uint_eq(find(&r, 4, "SECRET_KEY", SCAN_R_NAME)->end_line, 7);
	/* single quotes, escaped quotes */
	ck_assert_int_eq(scan_str(&r, "D4", SCAN_T_DOCKERFILE,
				  "FROM c\nUSER app\nENV PASSWORD='a b\\c' TOKEN=\"q\\\"x1\"\n"),
			 0);
	ck_assert_str_eq(find(&r, 3, "PASSWORD", SCAN_R_NAME)->value, "a b\\c");
	ck_assert_str_eq(find(&r, 3, "TOKEN", SCAN_R_NAME)->value, "q\"x1");
	/* RUN curl with a token in a header: free-text token format */
	ck_assert_int_eq(scan_str(&r, "D5", SCAN_T_DOCKERFILE,
				  "FROM c\nUSER app\nRUN curl -H \"Authorization: token "
				  "ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi\" https://x\n"),
			 0);
	ck_assert_str_eq(find(&r, 3, "RUN", SCAN_R_TOKEN)->value,
			 "ghp_8fK2mQ9xLr4TzW7nB1vC6yH3pD5sJ0aE2gUi"); /* the token, not the line */
	/* ADD from URL with --checksum is fine; without is not; in any stage */
	ck_assert_int_eq(scan_str(&r, "D6", SCAN_T_DOCKERFILE,
				  "FROM a\nADD http://x/y.tgz /y\nFROM c\nUSER app\n"
				  "ADD --checksum=sha256:00 https://x/z /z\n"),
			 0);
	ck_assert_ptr_nonnull(find(&r, 2, NULL, SCAN_R_ADD_URL));
	ck_assert_ptr_null(find(&r, 5, NULL, SCAN_R_ADD_URL));
	scan_result_free(&r);
}
END_TEST

START_TEST(compose_cases)
{
	static const char laughs[] =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e {<<: [*d], K: v}\n"
		"services:\n  s:\n    environment:\n      <<: [*e, *e, *e, *e, *e, *e, *e, *e]\n";
	struct scan_result r;

	scan_result_init(&r);
	ck_assert_int_eq(
		scan_str(&r, "c1.yml", SCAN_T_COMPOSE,
			 "services:\n  s:\n    environment: {DB_PASSWORD: Pa55w0rd1}\n"
			 "    ipc: host\n---\nservices:\n  t:\n    environment:\n"
			 "      DB_PASSWORD: |\n        multi\n        line\n      X: y\n"),
		0);
	ck_assert_uint_eq(find(&r, 3, "DB_PASSWORD", SCAN_R_NAME)->src, SCAN_SRC_NONE);
	ck_assert_ptr_nonnull(find(&r, 4, NULL, SCAN_R_HOST_NS));
	ck_assert_uint_eq(find(&r, 9, "DB_PASSWORD", SCAN_R_NAME)->src, SCAN_SRC_COMPOSE);
	ck_assert_uint_eq(find(&r, 9, "DB_PASSWORD", SCAN_R_NAME)->end_line, 11);
	ck_assert_int_eq(scan_str(&r, "c2.yml", SCAN_T_COMPOSE, laughs), 0);
	ck_assert_int_eq(scan_str(&r, "c3.yml", SCAN_T_COMPOSE, "- just\n- a list\n"), 0);
	ck_assert_int_eq(scan_str(&r, "c4.yml", SCAN_T_COMPOSE, "services: [1, 2]\n"), 0);
	scan_result_free(&r);
}
END_TEST

START_TEST(detect_types)
{
	ck_assert_int_eq(scan_detect_type("a/Dockerfile", "", 0), SCAN_T_DOCKERFILE);
	ck_assert_int_eq(scan_detect_type("Dockerfile.prod", "", 0), SCAN_T_DOCKERFILE);
	ck_assert_int_eq(scan_detect_type("api.Dockerfile", "", 0), SCAN_T_DOCKERFILE);
	ck_assert_int_eq(scan_detect_type("Containerfile", "", 0), SCAN_T_DOCKERFILE);
	ck_assert_int_eq(scan_detect_type("docker-compose.yaml", "", 0), SCAN_T_COMPOSE);
	ck_assert_int_eq(scan_detect_type(".env", "", 0), SCAN_T_ENV);
	ck_assert_int_eq(scan_detect_type(".env.production", "", 0), SCAN_T_ENV);
	ck_assert_int_eq(scan_detect_type("x.json", "", 0), SCAN_T_INSPECT);
	ck_assert_int_eq(scan_detect_type("blob", " [{}]", 5), SCAN_T_INSPECT);
	ck_assert_int_eq(scan_detect_type("blob", "# c\nFROM x\n", 11), SCAN_T_DOCKERFILE);
	ck_assert_int_eq(scan_detect_type("blob", "services:\n", 10), SCAN_T_COMPOSE);
	ck_assert_int_eq(scan_detect_type("blob", "A=b\n", 4), SCAN_T_ENV);
}
END_TEST

static void assert_no_values(const struct scan_result *r, const char *text)
{
	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].value && r->f[i].value_len >= 4)
			ck_assert_msg(!strstr(text, r->f[i].value), "value of %s leaked",
				      r->f[i].name);
}

static struct scan_result all_corpus(void)
{
	static const char *const files[] = { "Dockerfile.multistage", "compose.yml", "app.env",
					     "billing-inspect.json" };
	struct scan_result r;

	scan_result_init(&r);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		ck_assert_int_eq(scan_file(&r, files[i]), 0);
	return r;
}

START_TEST(reports_never_hold_values)
{
	struct scan_result r = all_corpus();
	char *t = scan_report_table(&r), *j = scan_report_json(&r), *s = scan_report_sarif(&r, "1");

	ck_assert_uint_eq(r.n, 27);
	assert_no_values(&r, t);
	assert_no_values(&r, j);
	assert_no_values(&r, s);
	for (size_t i = 0; i < r.n; i++) {
		ck_assert_ptr_null(r.f[i].value ? strstr(r.f[i].reason, r.f[i].value) : NULL);
		ck_assert_ptr_nonnull(strstr(t, r.f[i].reason));
	}
	free(t);
	free(j);
	free(s);
	scan_result_free(&r);
}
END_TEST

START_TEST(json_shape)
{
	struct scan_result r = all_corpus();
	char *j = scan_report_json(&r);
	json_t *o = json_loads(j, 0, NULL), *f;
	size_t i;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "count")), (json_int_t)r.n);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "findings")), r.n);
	json_array_foreach(json_object_get(o, "findings"), i, f)
	{
		ck_assert_ptr_nonnull(json_string_value(json_object_get(f, "file")));
		ck_assert_int_ge(json_integer_value(json_object_get(f, "line")), 1);
		ck_assert_str_eq(json_string_value(json_object_get(f, "rule")),
				 scan_rule_id(r.f[i].rule));
		ck_assert_int_eq(json_object_get(f, "value_masked") != NULL, r.f[i].value != NULL);
	}
	json_decref(o);
	free(j);
	scan_result_free(&r);
}
END_TEST

START_TEST(sarif_shape)
{
	struct scan_result r = all_corpus();
	char *s = scan_report_sarif(&r, "0.1");
	json_t *o = json_loads(s, 0, NULL), *run, *rules, *res, *x;
	size_t i;

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "version")), "2.1.0");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "$schema")), "sarif"));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "runs")), 1);
	run = json_array_get(json_object_get(o, "runs"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(run, "tool"), "driver"), "name")),
			 "keyhole");
	rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
	ck_assert_uint_eq(json_array_size(rules), SCAN_R_COUNT);
	res = json_object_get(run, "results");
	ck_assert_uint_eq(json_array_size(res), r.n);
	json_array_foreach(res, i, x)
	{
		json_t *pl = json_object_get(json_array_get(json_object_get(x, "locations"), 0),
					     "physicalLocation");
		json_int_t idx = json_integer_value(json_object_get(x, "ruleIndex"));
		const char *lvl = json_string_value(json_object_get(x, "level"));
		ck_assert_str_eq(json_string_value(
					 json_object_get(json_array_get(rules, (size_t)idx), "id")),
				 json_string_value(json_object_get(x, "ruleId")));
		ck_assert(!strcmp(lvl, "error") || !strcmp(lvl, "warning") || !strcmp(lvl, "note"));
		ck_assert_ptr_nonnull(
			json_string_value(json_object_get(json_object_get(x, "message"), "text")));
		ck_assert_str_eq(json_string_value(json_object_get(
					 json_object_get(pl, "artifactLocation"), "uri")),
				 r.f[i].file);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(pl, "region"),
								    "startLine")),
				 r.f[i].line);
	}
	json_decref(o);
	free(s);
	scan_result_free(&r);
}
END_TEST

START_TEST(non_utf8_names)
{
	struct scan_result r;
	char *j, *s;

	scan_result_init(&r);
	ck_assert_int_eq(
		scan_str(&r, "bad\xff.env", SCAN_T_ENV, "DB_PASSWORD_\xfe=hunter2hunter2\n"), 0);
	ck_assert_uint_eq(r.n, 1);
	j = scan_report_json(&r);
	s = scan_report_sarif(&r, "1");
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(j, "\"DB_PASSWORD_?\""));
	ck_assert_ptr_nonnull(strstr(s, "bad?.env"));
	free(j);
	free(s);
	/* the table never carries control bytes (terminal escapes) */
	ck_assert_int_eq(
		scan_str(&r, "e\x1b[2J.env", SCAN_T_ENV, "X_\x1b]0;T\x07_TOKEN=abcd1234xyz\n"), 0);
	s = scan_report_table(&r);
	ck_assert_ptr_null(strchr(s, '\x1b'));
	ck_assert_ptr_null(strchr(s, '\x07'));
	ck_assert_ptr_nonnull(strstr(s, "e?[2J.env:1"));
	free(s);
	scan_result_free(&r);
	/* a movable credential: the table names the next step, with its file */
	ck_assert_int_eq(scan_str(&r, "app.env", SCAN_T_ENV, "X_TOKEN=abcd1234xyz\n"), 0);
	s = scan_report_table(&r);
	ck_assert_ptr_nonnull(strstr(s, "\nnext: keyhole import --from app.env (secrets as files; "
					"--deliver env-file or env"));
	free(s);
	scan_result_free(&r);
	/* posture only: nothing to import, no next step */
	ck_assert_int_eq(scan_str(&r, "Dockerfile", SCAN_T_DOCKERFILE, "FROM x\n"), 0);
	s = scan_report_table(&r);
	ck_assert_ptr_nonnull(strstr(s, "KH201"));
	ck_assert_ptr_null(strstr(s, "next:"));
	free(s);
	scan_result_free(&r);
}
END_TEST

/* Real `docker inspect` / `podman inspect` output captured by the
 * attestation tests (tests/fixtures). */
START_TEST(real_inspect_fixtures)
{
	static const char *const files[] = { "inspect_docker_privileged.json",
					     "inspect_podman_privileged.json",
					     "inspect_docker_labels.json",
					     "inspect_podman_labels.json" };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct scan_result r;
		char rel[128];
		size_t len;
		char *b;
		snprintf(rel, sizeof rel, "../fixtures/%s", files[i]);
		b = slurp(rel, &len);
		scan_result_init(&r);
		ck_assert_int_eq(scan_buffer(&r, files[i], SCAN_T_AUTO, b, len), 0);
		ck_assert_msg((find(&r, 1, NULL, SCAN_R_PRIVILEGED) != NULL) == (i < 2), "%s",
			      files[i]);
		scan_result_free(&r);
		free(b);
	}
}
END_TEST

static Suite *scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *c = tcase_create("scan");

	tcase_add_test(c, corpus_dockerfile);
	tcase_add_test(c, corpus_compose_env_inspect);
	tcase_add_test(c, corpus_false_positives);
	tcase_add_test(c, broken_inputs);
	tcase_add_test(c, placeholders);
	tcase_add_test(c, name_patterns);
	tcase_add_test(c, token_formats);
	tcase_add_test(c, token_formats_well_known);
	tcase_add_test(c, token_formats_masked_in_reports);
	tcase_add_test(c, root_user_and_shim);
	tcase_add_test(c, root_user_and_shim_inspect);
	tcase_add_test(c, entropy_values);
	tcase_add_test(c, masking);
	tcase_add_test(c, dockerfile_cases);
	tcase_add_test(c, compose_cases);
	tcase_add_test(c, detect_types);
	tcase_add_test(c, reports_never_hold_values);
	tcase_add_test(c, json_shape);
	tcase_add_test(c, sarif_shape);
	tcase_add_test(c, real_inspect_fixtures);
	tcase_add_test(c, non_utf8_names);
	suite_add_tcase(s, c);
	return s;
}

CHECK_MAIN(scan_suite)
