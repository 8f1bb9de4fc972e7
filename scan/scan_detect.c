/* SPDX-License-Identifier: MIT */
/* Credential heuristics for one NAME=VALUE pair or a piece of free text:
 * known token formats, PEM private keys, URL user:password, name patterns
 * and Shannon entropy, after ruling out placeholders. Pure; the reason text
 * it produces never contains the value (docs/scan.md lists the rules). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "scan_detect.h"

static bool c_alnum(char c) { return isalnum((unsigned char)c) != 0; }
static bool c_updig(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static bool c_alnum_(char c) { return c_alnum(c) || c == '_'; }
static bool c_alnum_dash(char c) { return c_alnum(c) || c == '_' || c == '-'; }

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

/* A known token format starting exactly at s; *ret_len its length. */
static const char *token_at(const char *s, size_t n, size_t *ret_len)
{
	static const char *const gh[] = { "ghp_", "gho_", "ghs_", "ghu_", "ghr_" };
	size_t k;

	if ((has_prefix(s, n, "AKIA") || has_prefix(s, n, "ASIA")) &&
	    run(s + 4, n - 4, c_updig) == 16 && (n == 20 || !c_alnum(s[20]))) {
		*ret_len = 20;
		return "AWS access key id format";
	}
	for (size_t i = 0; i < ARRAY_SIZE(gh); i++)
		if (has_prefix(s, n, gh[i]) && (k = run(s + 4, n - 4, c_alnum)) >= 30) {
			*ret_len = 4 + k;
			return "GitHub token format";
		}
	if (has_prefix(s, n, "github_pat_") && (k = run(s + 11, n - 11, c_alnum_)) >= 22) {
		*ret_len = 11 + k;
		return "GitHub fine-grained token format";
	}
	if (has_prefix(s, n, "glpat-") && (k = run(s + 6, n - 6, c_alnum_dash)) >= 20) {
		*ret_len = 6 + k;
		return "GitLab token format";
	}
	if (n > 5 && has_prefix(s, n, "xox") && strchr("abprse", s[3]) && s[3] && s[4] == '-' &&
	    (k = run(s + 5, n - 5, c_alnum_dash)) >= 10) {
		*ret_len = 5 + k;
		return "Slack token format";
	}
	return NULL;
}

/* First known token in v: its description; *ret_off and *ret_len its place. */
static const char *find_token_at(const char *v, size_t n, size_t *ret_off, size_t *ret_len)
{
	for (size_t i = 0; i < n; i++) {
		const char *t;
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

static const char *find_token(const char *v, size_t n)
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
		"changeit", "secret", "password", "passwd", "pass", "token", "none", "null",
		"nil", "test", "testing", "sample", "todo", "tbd", "fixme", "default", "admin",
		"key", "apikey", "api_key", "your-token", "mysecret", "mypassword", "foo", "bar",
		"foobar", "undefined", "empty", "n/a", "-",
	};
	static const char *const sub[] = {
		"changeme", "change_me", "change-me", "example", "placeholder", "dummy",
		"redacted", "replace_me", "replace-me", "replaceme", "your_", "your-", "yourtoken",
		"_here", "-here", "xxxx", "fake", "notasecret", "not-a-secret", "insert_",
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
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off",
					     "enabled", "disabled" };
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
		bool brk = !c || !c_alnum(c) ||
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
	static const char *const longw[] = { "PASSWORD", "PASSWD", "SECRET", "TOKEN",
					     "CREDENTIAL", "APIKEY", "PRIVATEKEY", "ACCESSKEY" };
	static const char *const shortw[] = { "PWD", "PASS", "PW", "KEY", "AUTH", "PSK" };
	static const char *const notsec[] = {
		"ID", "NAME", "FILE", "PATH", "DIR", "PORT", "HOST", "HOSTNAME", "URL", "URI",
		"ENDPOINT", "USER", "USERNAME", "ENABLED", "ENABLE", "DISABLED", "TYPE", "ALG",
		"ALGORITHM", "LENGTH", "LEN", "SIZE", "TIMEOUT", "TTL", "EXPIRY", "HEADER",
		"METHOD", "PROVIDER", "MODE", "VERSION", "REGION", "FORMAT", "LOCATION", "COUNT",
		"PUBLIC", "FINGERPRINT", "POLICY", "SERVER", "BITS",
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
			if (!strcmp(tok[i], notsec[k]) && (i == nt - 1 || !strcmp(notsec[k], "PUBLIC")))
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
	const char *nm = name_match(name), *tok;
	double h = 0;

	if (len > SCAN_MAX_VALUE)
		len = SCAN_MAX_VALUE;
	if (has_private_key(val, len)) {
		*ret_rule = SCAN_R_PRIVATE_KEY;
		snprintf(reason, reason_sz, "private key PEM block");
	} else if ((tok = find_token(val, len)) != NULL) {
		*ret_rule = SCAN_R_TOKEN;
		snprintf(reason, reason_sz, "%s", tok);
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
	const char *why, *b, *e;
	enum scan_rule rule = SCAN_R_TOKEN;
	size_t off = 0, tl = len;
	char reason[160];

	if (len > SCAN_MAX_VALUE)
		len = tl = SCAN_MAX_VALUE;
	b = memmem(text, len, "-----BEGIN ", 11);
	if (b && has_private_key(b, len - (size_t)(b - text))) {
		rule = SCAN_R_PRIVATE_KEY;
		why = "private key PEM block";
		e = memmem(b, len - (size_t)(b - text), "PRIVATE KEY-----", 16);
		e = memmem(e + 16, len - (size_t)(e + 16 - text), "PRIVATE KEY-----", 16);
		off = (size_t)(b - text);
		tl = e ? (size_t)(e + 16 - b) : len - off;
	} else if ((why = find_token_at(text, len, &off, &tl)) == NULL && has_url_cred(text, len)) {
		rule = SCAN_R_URL_CRED;
		why = "URL with user:password";
		off = 0;
		tl = len;
	}
	if (!why)
		return 0;
	snprintf(reason, sizeof reason, "%s in %s", why, name);
	return scan_add(r, file, line, line, rule, SCAN_SRC_NONE, name, NULL, reason, text + off,
			tl);
}
