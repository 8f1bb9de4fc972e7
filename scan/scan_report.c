/* SPDX-License-Identifier: MIT */
/* Scan reports: a human table, JSON and SARIF 2.1.0. Pure (memory streams
 * and jansson). Only masked values and reasons ever reach the text; the
 * finding's value field is never read here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan_report.h"
#include "text.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* After credentials import can move: the command that moves them, and the
 * zero-code-change forms for apps that read variables (docs/migrating.md). */
static void next_step(FILE *f, const struct scan_result *r)
{
	char file[300];

	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *x = &r->f[i];
		if (x->src == SCAN_SRC_NONE || x->rule > SCAN_R_TEST_TOKEN)
			continue;
		fprintf(f,
			"next: keyhole import --from %s (secrets as files; --deliver env-file "
			"or env for an app that reads variables)\n",
			text_safe(x->file, file, sizeof file));
		return;
	}
}

char *scan_report_table(const struct scan_result *r)
{
	char *out = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&out, &sz);

	if (!f)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct scan_finding *x = &r->f[i];
		char loc[320], file[300], name[300], why[300];
		/* untrusted names must not drive the terminal */
		snprintf(loc, sizeof loc, "%s:%u", text_safe(x->file, file, sizeof file), x->line);
		fprintf(f, "%-28s %-5s %-16s %-28s %-12s %s\n", loc, scan_rule_id(x->rule),
			scan_rule_name(x->rule),
			x->name ? text_safe(x->name, name, sizeof name) : "-",
			x->masked ? x->masked : "-",
			x->reason ? text_safe(x->reason, why, sizeof why) : "-");
	}
	if (r->n)
		fprintf(f, "%zu finding%s\n", r->n, r->n == 1 ? "" : "s");
	else
		fputs("no findings\n", f);
	next_step(f, r);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Names and paths come from untrusted files and may not be UTF-8, which
 * JSON strings must be: replace such bytes with '?'. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *c;

	if (j || !s || !(c = strdup(s)))
		return j;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

static json_t *finding_json(const struct scan_finding *x)
{
	json_t *o = json_object();
	int e = 0;

	if (!o)
		return NULL;
	e |= json_object_set_new(o, "file", jstr(x->file));
	e |= json_object_set_new(o, "line", json_integer(x->line));
	e |= json_object_set_new(o, "rule", json_string(scan_rule_id(x->rule)));
	e |= json_object_set_new(o, "rule_name", json_string(scan_rule_name(x->rule)));
	e |= json_object_set_new(
		o, "kind", json_string(scan_rule_is_posture(x->rule) ? "posture" : "credential"));
	e |= json_object_set_new(o, "level", json_string(scan_rule_level(x->rule)));
	e |= json_object_set_new(o, "reason", jstr(x->reason));
	if (x->name)
		e |= json_object_set_new(o, "name", jstr(x->name));
	if (x->masked)
		e |= json_object_set_new(o, "value_masked", jstr(x->masked));
	if (x->service)
		e |= json_object_set_new(o, "service", jstr(x->service));
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return s;
}

char *scan_report_json(const struct scan_result *r)
{
	json_t *arr = json_array(), *o;

	for (size_t i = 0; arr && i < r->n; i++)
		if (json_array_append_new(arr, finding_json(&r->f[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	o = arr ? json_pack("{s:o, s:I}", "findings", arr, "count", (json_int_t)r->n) : NULL;
	return dump(o);
}

static json_t *sarif_rules(void)
{
	json_t *a = json_array();

	for (int i = 0; a && i < SCAN_R_COUNT; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}}", "id",
				     scan_rule_id((enum scan_rule)i), "name",
				     scan_rule_name((enum scan_rule)i), "shortDescription", "text",
				     scan_rule_help((enum scan_rule)i), "fullDescription", "text",
				     scan_rule_help((enum scan_rule)i), "defaultConfiguration",
				     "level", scan_rule_level((enum scan_rule)i)));
	return a;
}

static json_t *sarif_result(const struct scan_finding *x)
{
	char msg[512];

	if (x->name)
		snprintf(msg, sizeof msg, "%s = %s: %s", x->name, x->masked ? x->masked : "",
			 x->reason ? x->reason : "");
	else
		snprintf(msg, sizeof msg, "%s", x->reason ? x->reason : scan_rule_help(x->rule));
	return json_pack("{s:s, s:i, s:s, s:{s:o}, s:[{s:{s:{s:o}, s:{s:I}}}]}", "ruleId",
			 scan_rule_id(x->rule), "ruleIndex", (int)x->rule, "level",
			 scan_rule_level(x->rule), "message", "text", jstr(msg), "locations",
			 "physicalLocation", "artifactLocation", "uri", jstr(x->file), "region",
			 "startLine", (json_int_t)(x->line ? x->line : 1));
}

char *scan_report_sarif(const struct scan_result *r, const char *tool_version)
{
	json_t *results = json_array(), *o;

	for (size_t i = 0; results && i < r->n; i++)
		if (json_array_append_new(results, sarif_result(&r->f[i])) < 0) {
			json_decref(results);
			return NULL;
		}
	if (!results)
		return NULL;
	o = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}", "version", "2.1.0", "$schema",
		      SARIF_SCHEMA, "runs", "tool", "driver", "name", "keyhole", "version",
		      tool_version ? tool_version : "0", "rules", sarif_rules(), "results",
		      results);
	return dump(o);
}
