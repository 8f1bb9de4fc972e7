/* SPDX-License-Identifier: MIT */
/* Scanner core (scan_core.h): the rule table, the result list and the two
 * helpers every output needs, masking and entropy. Pure: no I/O. Values are
 * untrusted text; a finding's value is copied into sodium_malloc memory and
 * nowhere else. */
#include "scan_core.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *id, *name, *level, *help;
} rules[SCAN_R_COUNT] = {
	[SCAN_R_PRIVATE_KEY] = { "KH101", "private-key", "error",
				 "A PEM private key is baked into the file; move it into the keystore." },
	[SCAN_R_TOKEN] = { "KH102", "token-format", "error",
			   "The value has the format of a cloud or forge access token." },
	[SCAN_R_URL_CRED] = { "KH103", "url-credentials", "error",
			      "A URL carries a user:password pair." },
	[SCAN_R_NAME] = { "KH104", "credential-name", "error",
			  "A variable named like a credential holds a literal value." },
	[SCAN_R_ENTROPY] = { "KH105", "high-entropy", "warning",
			     "A literal value looks random enough to be a key or token." },
	[SCAN_R_TEST_TOKEN] = { "KH106", "test-token", "warning",
				"The value has the format of a test-mode (sandbox) API key." },
	[SCAN_R_ROOT_USER] = { "KH201", "root-user", "warning",
			       "The final stage runs as root (no USER, or USER root/0)." },
	[SCAN_R_EXPOSE] = { "KH202", "extra-expose", "note",
			    "More than one port is exposed; expose only what is served." },
	[SCAN_R_ADD_URL] = { "KH203", "add-url", "warning",
			     "ADD fetches a URL without --checksum; use curl with a pinned digest." },
	[SCAN_R_PRIVILEGED] = { "KH204", "privileged", "error",
				"The container runs privileged (all capabilities, all devices)." },
	[SCAN_R_HOST_NS] = { "KH205", "host-namespace", "warning",
			     "The container shares a host namespace (network, pid or ipc)." },
};

const char *scan_rule_id(enum scan_rule r)
{
	return r < SCAN_R_COUNT ? rules[r].id : "KH000";
}
const char *scan_rule_name(enum scan_rule r)
{
	return r < SCAN_R_COUNT ? rules[r].name : "?";
}
const char *scan_rule_help(enum scan_rule r)
{
	return r < SCAN_R_COUNT ? rules[r].help : "?";
}
const char *scan_rule_level(enum scan_rule r)
{
	return r < SCAN_R_COUNT ? rules[r].level : "note";
}
bool scan_rule_is_posture(enum scan_rule r)
{
	return r >= SCAN_R_ROOT_USER;
}

void scan_result_init(struct scan_result *r)
{
	memset(r, 0, sizeof *r);
}

static void finding_free(struct scan_finding *f)
{
	free(f->file);
	free(f->name);
	free(f->service);
	free(f->reason);
	free(f->masked);
	if (f->value) {
		sodium_memzero(f->value, f->value_len);
		sodium_free(f->value);
	}
}

void scan_result_free(struct scan_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		finding_free(&r->f[i]);
	for (size_t i = 0; i < r->n_refs; i++) {
		free(r->refs[i].path);
		free(r->refs[i].service);
	}
	free(r->f);
	free(r->refs);
	for (size_t i = 0; i < r->n_services; i++) {
		free(r->services[i].name);
		free(r->services[i].image);
	}
	free(r->services);
	free(r->image);
	scan_result_init(r);
}

static char *xstrdup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static bool is_duplicate(const struct scan_result *r, const char *file, unsigned line,
			 const char *name, enum scan_rule rule)
{
	for (size_t i = r->n > 16 ? r->n - 16 : 0; i < r->n; i++) {
		const struct scan_finding *f = &r->f[i];
		if (f->line != line || strcmp(f->file, file) != 0)
			continue;
		if (scan_rule_is_posture(rule) ? f->rule == rule
					       : (f->name && name && strcmp(f->name, name) == 0))
			return true;
	}
	return false;
}

static int store_value(struct scan_finding *f, const char *value, size_t len)
{
	if (!value)
		return 0;
	if (sodium_init() < 0)
		return -ENOMEM;
	f->value = sodium_malloc(len + 1);
	if (!f->value)
		return -ENOMEM;
	memcpy(f->value, value, len);
	f->value[len] = '\0';
	f->value_len = len;
	f->masked = scan_mask(value, len);
	return f->masked ? 0 : -ENOMEM;
}

int scan_add(struct scan_result *r, const char *file, unsigned line, unsigned end_line,
	     enum scan_rule rule, enum scan_src src, const char *name, const char *service,
	     const char *reason, const char *value, size_t value_len)
{
	struct scan_finding f = { .line = line,
				  .end_line = end_line < line ? line : end_line,
				  .rule = rule,
				  .src = src };
	bool oom = false;
	int e;

	if (is_duplicate(r, file, line, name, rule))
		return 0;
	if (r->n >= SCAN_MAX_FINDINGS)
		return -E2BIG;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct scan_finding *nf = reallocarray(r->f, nc, sizeof *nf);
		if (!nf)
			return -ENOMEM;
		r->f = nf;
		r->cap = nc;
	}
	f.file = xstrdup_or_null(file, &oom);
	f.name = xstrdup_or_null(name, &oom);
	f.service = xstrdup_or_null(service, &oom);
	f.reason = xstrdup_or_null(reason, &oom);
	e = oom ? -ENOMEM : store_value(&f, value, value_len);
	if (e < 0) {
		finding_free(&f);
		return e;
	}
	r->f[r->n++] = f;
	return 0;
}

/* ---- masking ---- */

char *scan_mask(const char *val, size_t len)
{
	char buf[64];
	int n;

	/* Short values are shown as their length only: two characters of an
	 * 8-character password give too much away. */
	if (len < 16)
		n = snprintf(buf, sizeof buf, "\xe2\x80\xa6(%zu)", len);
	else
		n = snprintf(buf, sizeof buf, "%c%c\xe2\x80\xa6(%zu)",
			     isprint((unsigned char)val[0]) ? val[0] : '?',
			     isprint((unsigned char)val[1]) ? val[1] : '?', len);
	return n > 0 ? strdup(buf) : NULL;
}

/* ---- entropy (no libm: log2 by range reduction + atanh series) ---- */

static double log2_pos(double x)
{
	double e = 0, y, y2, term, sum = 0;

	while (x >= 2.0) {
		x /= 2.0;
		e += 1;
	}
	while (x < 1.0) {
		x *= 2.0;
		e -= 1;
	}
	/* ln(x) = 2 atanh((x-1)/(x+1)), |y| <= 1/3 converges fast */
	y = (x - 1) / (x + 1);
	y2 = y * y;
	term = y;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= y2;
	}
	return e + 2 * sum / 0.69314718055994530942;
}

double scan_entropy(const char *val, size_t len)
{
	size_t count[256] = { 0 };
	double h = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		count[(unsigned char)val[i]]++;
	for (size_t i = 0; i < 256; i++) {
		if (count[i]) {
			double p = (double)count[i] / (double)len;
			h -= p * log2_pos(p);
		}
	}
	return h;
}
