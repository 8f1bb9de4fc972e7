/* SPDX-License-Identifier: MIT */
/* Credential heuristics for one NAME=VALUE pair or a piece of free text:
 * known token formats, PEM private keys, URL user:password, name patterns
 * and Shannon entropy, after ruling out placeholders; and whether an argv
 * is keyhole-shim dropping root. Pure, part of the core: calls scan_core.c
 * only. The reason text never contains the value (docs/scan.md). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "scan_detect.h"

static bool c_alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}
static bool c_alpha(char c)
{
	return isalpha((unsigned char)c) != 0;
}
static bool c_updig(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
static bool c_lhex(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}
static bool c_alnum_(char c)
{
	return c_alnum(c) || c == '_';
}
static bool c_alnum_dash(char c)
{
	return c_alnum(c) || c == '_' || c == '-';
}

static size_t run(const char *s, size_t n, bool (*ok)(char))
{
	size_t i = 0;
	while (i < n && ok(s[i]))
		i++;
	return i;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t l = strlen(p);
	return n >= l && memcmp(s, p, l) == 0;
}

/* SendGrid: SG.<22>.<43>, both parts [A-Za-z0-9_-]. */
static size_t body_sendgrid(const char *s, size_t n)
{
	size_t a = run(s, n, c_alnum_dash), b;

	if (a != 22 || a >= n || s[a] != '.')
		return 0;
	b = run(s + a + 1, n - a - 1, c_alnum_dash);
	return b == 43 ? a + 1 + b : 0;
}

/* OpenAI's older keys: sk-<20>T3BlbkFJ<20> ("OpenAI" in base64 inside). */
static size_t body_openai_legacy(const char *s, size_t n)
{
	size_t k = run(s, n, c_alnum);
	return k == 48 && memcmp(s + 20, "T3BlbkFJ", 8) == 0 ? k : 0;
}

/* Known token formats: a distinctive prefix, then a body of ok characters
 * with min..max (0 = any) length, or a body matcher for the odd shapes.
 * test: a test/sandbox-mode key, reported as SCAN_R_TEST_TOKEN. */
struct tok_fmt {
	const char *prefix, *what;
	bool (*ok)(char);
	unsigned min, max;
	size_t (*body)(const char *s, size_t n);
	bool test;
};

static const struct tok_fmt tok_fmts[] = {
	{ "AKIA", "AWS access key id", c_updig, 16, 16, NULL, false },
	{ "ASIA", "AWS access key id", c_updig, 16, 16, NULL, false },
	{ "ghp_", "GitHub token", c_alnum, 30, 0, NULL, false },
	{ "gho_", "GitHub token", c_alnum, 30, 0, NULL, false },
	{ "ghs_", "GitHub token", c_alnum, 30, 0, NULL, false },
	{ "ghu_", "GitHub token", c_alnum, 30, 0, NULL, false },
	{ "ghr_", "GitHub token", c_alnum, 30, 0, NULL, false },
	{ "github_pat_", "GitHub fine-grained token", c_alnum_, 22, 0, NULL, false },
	{ "glpat-", "GitLab token", c_alnum_dash, 20, 0, NULL, false },
	{ "xoxa-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "xoxb-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "xoxp-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "xoxr-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "xoxs-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "xoxe-", "Slack token", c_alnum_dash, 10, 0, NULL, false },
	{ "sk_live_", "Stripe secret key", c_alnum, 20, 0, NULL, false },
	{ "rk_live_", "Stripe restricted key", c_alnum, 20, 0, NULL, false },
	{ "sk_test_", "Stripe test-mode secret key", c_alnum, 20, 0, NULL, true },
	{ "rk_test_", "Stripe test-mode restricted key", c_alnum, 20, 0, NULL, true },
	{ "AIza", "Google API key", c_alnum_dash, 35, 35, NULL, false },
	{ "npm_", "npm access token", c_alnum, 36, 36, NULL, false },
	{ "pypi-AgEIcHlwaS5vcmc", "PyPI API token", c_alnum_dash, 50, 0, NULL, false },
	{ "pypi-AgENdGVzdC5weXBpLm9yZw", "TestPyPI API token", c_alnum_dash, 50, 0, NULL, true },
	{ "SG.", "SendGrid API key", NULL, 0, 0, body_sendgrid, false },
	{ "SK", "Twilio API key", c_lhex, 32, 32, NULL, false },
	{ "sk-proj-", "OpenAI project API key", c_alnum_dash, 32, 0, NULL, false },
	{ "sk-svcacct-", "OpenAI service account key", c_alnum_dash, 32, 0, NULL, false },
	{ "sk-admin-", "OpenAI admin key", c_alnum_dash, 32, 0, NULL, false },
	{ "sk-", "OpenAI API key", NULL, 0, 0, body_openai_legacy, false },
	{ "sk-ant-", "Anthropic API key", c_alnum_dash, 40, 0, NULL, false },
	{ "dckr_pat_", "Docker Hub access token", c_alnum_dash, 27, 0, NULL, false },
	{ "hf_", "Hugging Face token", c_alpha, 34, 34, NULL, false },
};

/* A real token's body is random: not a placeholder ("xxxx", "EXAMPLE",
 * "your_..."), and not a few characters repeated. */
static bool body_random(const char *b, size_t k)
{
	bool seen[256] = { false };
	size_t distinct = 0, want = k / 4 + 2 < 12 ? k / 4 + 2 : 12;

	if (scan_is_placeholder(b, k))
		return false;
	for (size_t i = 0; i < k; i++)
		if (!seen[(unsigned char)b[i]]) {
			seen[(unsigned char)b[i]] = true;
			distinct++;
		}
	return distinct >= want;
}

/* A known token format starting exactly at s; *ret_len its length. */
static const struct tok_fmt *token_at(const char *s, size_t n, size_t *ret_len)
{
	for (size_t i = 0; i < ARRAY_SIZE(tok_fmts); i++) {
		const struct tok_fmt *t = &tok_fmts[i];
		size_t p = strlen(t->prefix), k;
		if (!has_prefix(s, n, t->prefix))
			continue;
		k = t->body ? t->body(s + p, n - p) : run(s + p, n - p, t->ok);
		if (k == 0 || k < t->min || (t->max && k > t->max))
			continue;
		/* the token ends here: a longer word is something else */
		if ((p + k < n && c_alnum(s[p + k])) || !body_random(s + p, k))
			continue;
		*ret_len = p + k;
		return t;
	}
	return NULL;
}

/* First known token in v: its format; *ret_off and *ret_len its place. */
static const struct tok_fmt *find_token_at(const char *v, size_t n, size_t *ret_off,
					   size_t *ret_len)
{
	for (size_t i = 0; i < n; i++) {
		const struct tok_fmt *t;
		if (i > 0 && c_alnum(v[i - 1]))
			continue;
		t = token_at(v + i, n - i, ret_len);
		if (t) {
			*ret_off = i;
			return t;
		}
	}
	return NULL;
}

static const struct tok_fmt *find_token(const char *v, size_t n)
{
	size_t off, len;
	return find_token_at(v, n, &off, &len);
}

static bool has_private_key(const char *v, size_t n)
{
	const char *b = memmem(v, n, "-----BEGIN ", 11);
	return b && memmem(b, n - (size_t)(b - v), "PRIVATE KEY-----", 16) != NULL;
}

/* scheme://user:password@host with a literal password. */
static bool has_url_cred(const char *v, size_t n)
{
	for (const char *p = v; (p = memmem(p, n - (size_t)(p - v), "://", 3)) != NULL; p += 3) {
		const char *u = p + 3, *end = v + n, *colon = NULL, *q;
		if (p == v || !isalpha((unsigned char)p[-1]))
			continue;
		for (q = u; q < end && !strchr("/?#@ \t\"'", *q); q++)
			if (*q == ':' && !colon)
				colon = q;
		if (q < end && *q == '@' && colon && colon > u && q - colon > 1 &&
		    !scan_is_placeholder(colon + 1, (size_t)(q - colon - 1)))
			return true;
	}
	return false;
}

static bool all_same(const char *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

static bool ci_contains(const char *v, size_t n, const char *w)
{
	size_t l = strlen(w);
	for (size_t i = 0; i + l <= n; i++)
		if (!strncasecmp(v + i, w, l))
			return true;
	return false;
}

bool scan_is_placeholder(const char *v, size_t n)
{
	static const char *const exact[] = {
		"changeit", "secret",  "password",   "passwd",	 "pass",       "token",
		"none",	    "null",    "nil",	     "test",	 "testing",    "sample",
		"todo",	    "tbd",     "fixme",	     "default",	 "admin",      "key",
		"apikey",   "api_key", "your-token", "mysecret", "mypassword", "foo",
		"bar",	    "foobar",  "undefined",  "empty",	 "n/a",	       "-",
	};
	static const char *const sub[] = {
		"changeme", "change_me", "change-me",  "example",      "placeholder",
		"dummy",    "redacted",	 "replace_me", "replace-me",   "replaceme",
		"your_",    "your-",	 "yourtoken",  "_here",	       "-here",
		"xxxx",	    "fake",	 "notasecret", "not-a-secret", "insert_",
	};

	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0 || v[0] == '$' || memmem(v, n, "${", 2) || memmem(v, n, "{{", 2))
		return true;
	if (n >= 2 && ((v[0] == '<' && v[n - 1] == '>') || (v[0] == '[' && v[n - 1] == ']')))
		return true;
	if (n >= 3 && all_same(v, n))
		return true; /* xxx, ****, 000 */
	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strlen(exact[i]) == n && !strncasecmp(v, exact[i], n))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++)
		if (ci_contains(v, n, sub[i]))
			return true;
	return false;
}

/* Values that are not secrets whatever the name: booleans, numbers, paths. */
static bool trivial_value(const char *v, size_t n)
{
	static const char *const words[] = { "true", "false", "yes",	 "no",
					     "on",   "off",   "enabled", "disabled" };
	size_t i = 0;

	for (size_t k = 0; k < ARRAY_SIZE(words); k++)
		if (strlen(words[k]) == n && !strncasecmp(v, words[k], n))
			return true;
	while (i < n && (isdigit((unsigned char)v[i]) || v[i] == '.' || v[i] == '-'))
		i++;
	if (i == n)
		return true;
	return v[0] == '/' || has_prefix(v, n, "./") || has_prefix(v, n, "~/");
}

/* Upper-cased tokens of a name split at non-alphanumerics and camelCase. */
static size_t name_tokens(const char *name, char tok[][48], size_t max)
{
	size_t nt = 0, l = 0;

	for (size_t i = 0;; i++) {
		char c = name[i];
		bool brk =
			!c || !c_alnum(c) ||
			(i > 0 && islower((unsigned char)name[i - 1]) && isupper((unsigned char)c));
		if (brk && l) {
			tok[nt][l] = '\0';
			if (++nt == max)
				return nt;
			l = 0;
		}
		if (!c)
			return nt;
		if (c_alnum(c) && l < 47)
			tok[nt][l++] = (char)toupper((unsigned char)c);
	}
}

static const char *name_match(const char *name)
{
	static const char *const longw[] = { "PASSWORD",   "PASSWD", "SECRET",	   "TOKEN",
					     "CREDENTIAL", "APIKEY", "PRIVATEKEY", "ACCESSKEY" };
	static const char *const shortw[] = { "PWD", "PASS", "PW", "KEY", "AUTH", "PSK" };
	static const char *const notsec[] = {
		"ID",	     "NAME",	 "FILE",     "PATH",	 "DIR",	     "PORT",
		"HOST",	     "HOSTNAME", "URL",	     "URI",	 "ENDPOINT", "USER",
		"USERNAME",  "ENABLED",	 "ENABLE",   "DISABLED", "TYPE",     "ALG",
		"ALGORITHM", "LENGTH",	 "LEN",	     "SIZE",	 "TIMEOUT",  "TTL",
		"EXPIRY",    "HEADER",	 "METHOD",   "PROVIDER", "MODE",     "VERSION",
		"REGION",    "FORMAT",	 "LOCATION", "COUNT",	 "PUBLIC",   "FINGERPRINT",
		"POLICY",    "SERVER",	 "BITS",
	};
	char tok[16][48];
	size_t nt = name ? name_tokens(name, tok, 16) : 0;
	const char *hit = NULL;

	for (size_t i = 0; i < nt && !hit; i++) {
		for (size_t k = 0; k < ARRAY_SIZE(longw) && !hit; k++)
			if (strstr(tok[i], longw[k]))
				hit = longw[k];
		for (size_t k = 0; k < ARRAY_SIZE(shortw) && !hit; k++)
			if (!strcmp(tok[i], shortw[k]))
				hit = shortw[k];
	}
	if (!hit)
		return NULL;
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < ARRAY_SIZE(notsec); k++)
			if (!strcmp(tok[i], notsec[k]) &&
			    (i == nt - 1 || !strcmp(notsec[k], "PUBLIC")))
				return NULL;
	return hit;
}

bool scan_name_is_credential(const char *name)
{
	return name_match(name) != NULL;
}

static bool high_entropy(const char *v, size_t n, double *ret_h)
{
	bool up = false, lo = false, dig = false;

	if (n < SCAN_ENTROPY_MINLEN || memmem(v, n, "://", 3) || v[0] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (isspace(c) || !isprint(c))
			return false;
		up |= isupper(c) != 0;
		lo |= islower(c) != 0;
		dig |= isdigit(c) != 0;
	}
	*ret_h = scan_entropy(v, n);
	return up && lo && dig && *ret_h >= SCAN_ENTROPY_MIN;
}

bool scan_classify(const char *name, const char *val, size_t len, enum scan_rule *ret_rule,
		   char *reason, size_t reason_sz)
{
	const char *nm = name_match(name);
	const struct tok_fmt *tok;
	double h = 0;

	if (len > SCAN_MAX_VALUE)
		len = SCAN_MAX_VALUE;
	if (has_private_key(val, len)) {
		*ret_rule = SCAN_R_PRIVATE_KEY;
		snprintf(reason, reason_sz, "private key PEM block");
	} else if ((tok = find_token(val, len)) != NULL) {
		*ret_rule = tok->test ? SCAN_R_TEST_TOKEN : SCAN_R_TOKEN;
		snprintf(reason, reason_sz, "%s format", tok->what);
	} else if (has_url_cred(val, len)) {
		*ret_rule = SCAN_R_URL_CRED;
		snprintf(reason, reason_sz, "URL with user:password");
	} else if (scan_is_placeholder(val, len)) {
		return false;
	} else if (nm && !trivial_value(val, len)) {
		*ret_rule = SCAN_R_NAME;
		snprintf(reason, reason_sz, "name matches %s", nm);
		return true;
	} else if (high_entropy(val, len, &h)) {
		*ret_rule = SCAN_R_ENTROPY;
		snprintf(reason, reason_sz, "high entropy (%.1f bits/char >= %.1f)", h,
			 SCAN_ENTROPY_MIN);
		return true;
	} else {
		return false;
	}
	if (nm) {
		size_t l = strlen(reason);
		snprintf(reason + l, reason_sz - l, "; name matches %s", nm);
	}
	return true;
}

int scan_check_pair(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
		    enum scan_src src, const char *name, const char *service, const char *val,
		    size_t len)
{
	enum scan_rule rule;
	char reason[160];

	if (!scan_classify(name, val, len, &rule, reason, sizeof reason))
		return 0;
	return scan_add(r, file, line, end_line, rule, src, name, service, reason, val, len);
}

/* Free text (a RUN line): only unmistakable formats, never entropy. The
 * finding's value is the token (or PEM block) itself, not the whole line. */
int scan_check_text(struct scan_result *r, const char *file, unsigned line, const char *name,
		    const char *text, size_t len)
{
	const struct tok_fmt *tok = NULL;
	const char *why = NULL, *b, *e;
	enum scan_rule rule = SCAN_R_PRIVATE_KEY;
	size_t off = 0, tl = len;
	char reason[160];

	if (len > SCAN_MAX_VALUE)
		len = tl = SCAN_MAX_VALUE;
	b = memmem(text, len, "-----BEGIN ", 11);
	if (b && has_private_key(b, len - (size_t)(b - text))) {
		why = "private key PEM block";
		e = memmem(b, len - (size_t)(b - text), "PRIVATE KEY-----", 16);
		e = memmem(e + 16, len - (size_t)(e + 16 - text), "PRIVATE KEY-----", 16);
		off = (size_t)(b - text);
		tl = e ? (size_t)(e + 16 - b) : len - off;
	} else if ((tok = find_token_at(text, len, &off, &tl)) != NULL) {
		rule = tok->test ? SCAN_R_TEST_TOKEN : SCAN_R_TOKEN;
	} else if (has_url_cred(text, len)) {
		rule = SCAN_R_URL_CRED;
		why = "URL with user:password";
		off = 0;
		tl = len;
	} else {
		return 0;
	}
	if (tok)
		snprintf(reason, sizeof reason, "%s format in %s", tok->what, name);
	else
		snprintf(reason, sizeof reason, "%s in %s", why, name);
	return scan_add(r, file, line, line, rule, SCAN_SRC_NONE, name, NULL, reason, text + off,
			tl);
}

/* keyhole-shim's options that take a value (shim/args.c), as the next
 * word or after '='. */
static bool shim_valued(const char *a, const char **ret_v, bool *ret_next)
{
	static const char *const valued[] = { "--socket",   "--dir",	   "--user",   "--secret",
					      "--optional", "--on-rotate", "--timeout" };

	for (size_t i = 0; i < ARRAY_SIZE(valued); i++) {
		size_t l = strlen(valued[i]);
		if (strncmp(a, valued[i], l) != 0 || (a[l] != '\0' && a[l] != '='))
			continue;
		*ret_next = a[l] == '\0';
		*ret_v = a[l] == '=' ? a + l + 1 : NULL;
		return true;
	}
	return false;
}

/* "UID[:GID]", numeric as the shim wants it, with a UID other than 0. */
static bool user_not_root(const char *v)
{
	size_t d = strspn(v, "0123456789");

	if (d == 0 || (v[d] != '\0' && v[d] != ':'))
		return false;
	return strspn(v, "0") < d;
}

bool scan_shim_drops_root(const char *const *argv, size_t argc)
{
	const char *b, *user = NULL;

	if (argc == 0 || !argv[0])
		return false;
	b = strrchr(argv[0], '/');
	if (strcmp(b ? b + 1 : argv[0], "keyhole-shim") != 0)
		return false;
	/* The shim's own options run up to "--"; the app's come after. */
	for (size_t i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *v = NULL;
		bool next = false;
		if (!shim_valued(a, &v, &next))
			continue;
		if (next) {
			if (++i >= argc)
				break;
			v = argv[i];
		}
		if (!strncmp(a, "--user", 6))
			user = v;
	}
	return user && user_not_root(user);
}
