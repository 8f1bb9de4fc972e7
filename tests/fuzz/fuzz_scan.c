/* SPDX-License-Identifier: MIT */
/* Fuzz the credential scanner (scan/scan*.c): Dockerfile, compose YAML,
 * .env and inspect JSON, all untrusted text from repositories and images.
 * The first input byte picks the type, the rest is the file. Properties:
 * the caps hold, every finding has a reason, and no report (table, JSON,
 * SARIF) ever prints a finding's value in clear. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scan.h"

static const char *const paths[] = { "Dockerfile", "compose.yaml", ".env", "inspect.json",
				     "unknown.txt" };
static const enum scan_type types[] = { SCAN_T_DOCKERFILE, SCAN_T_COMPOSE, SCAN_T_ENV,
					SCAN_T_INSPECT, SCAN_T_AUTO };

/* Could v appear in a report legitimately, as part of a name we print? */
static bool printed_elsewhere(const struct scan_result *r, const char *v)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *f = &r->f[i];
		if ((f->name && strstr(f->name, v)) || (f->service && strstr(f->service, v)) ||
		    (f->file && strstr(f->file, v)))
			return true;
	}
	for (size_t i = 0; i < r->n_services; i++)
		if ((r->services[i].name && strstr(r->services[i].name, v)) ||
		    (r->services[i].image && strstr(r->services[i].image, v)))
			return true;
	for (size_t i = 0; i < r->n_refs; i++)
		if (r->refs[i].path && strstr(r->refs[i].path, v))
			return true;
	return r->image && strstr(r->image, v);
}

static void check_report(const struct scan_result *r, char *text)
{
	FUZZ_CHECK(text);
	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *f = &r->f[i];
		/* Short values may occur by chance; long ones must never. */
		if (!f->value || f->value_len < 16 || strlen(f->value) != f->value_len ||
		    printed_elsewhere(r, f->value))
			continue;
		FUZZ_CHECK(strstr(text, f->value) == NULL);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_result r;
	if (size < 1)
		return 0;
	size_t k = data[0] % 5, len = size - 1;
	char *buf = calloc(1, len ? len : 1);
	FUZZ_CHECK(buf);
	if (len)
		memcpy(buf, data + 1, len);
	scan_result_init(&r);
	int rc = scan_buffer(&r, paths[k], types[k], buf, len);
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(r.n <= SCAN_MAX_FINDINGS);
	for (size_t i = 0; i < r.n; i++) {
		FUZZ_CHECK(r.f[i].reason && r.f[i].rule < SCAN_R_COUNT);
		if (r.f[i].value)
			FUZZ_CHECK(r.f[i].masked && r.f[i].value_len <= SCAN_MAX_VALUE);
	}
	check_report(&r, scan_report_table(&r));
	check_report(&r, scan_report_json(&r));
	check_report(&r, scan_report_sarif(&r, "fuzz"));
	scan_result_free(&r);
	free(buf);
	return 0;
}
