/* SPDX-License-Identifier: MIT */
/* `keyhole scan PATH...`: reads Dockerfiles, compose files (and the env
 * files they reference), .env files and inspect JSON, walks directories for
 * those names, and prints findings as a table, JSON or SARIF. The scanner
 * (scan/scan*.c) is pure; this file does the I/O. Exit 0 clean, 1
 * findings, 2 error. Values are masked everywhere. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "text.h"
#include "cli/cli.h"
#include "cli/util.h"
#include "scan.h"

#define SCAN_MAX_DEPTH 6
#define SCAN_EXIT_ERROR 2

enum fmt { FMT_TABLE, FMT_JSON, FMT_SARIF };

struct scan_run {
	struct scan_result r;
	enum scan_type force;
	int errors;
};

static void warn_err(int err, const char *what)
{
	char b[512];

	fprintf(stderr, "keyhole: scan: %s: %s\n", text_safe(what, b, sizeof b),
		err == -EBADMSG ? "cannot parse" : strerror(-err));
}

static int scan_one_file(struct scan_run *s, const char *path, enum scan_type t)
{
	char *buf = NULL;
	size_t len = 0;
	int e = cli_read_small_file(path, SCAN_MAX_INPUT, &buf, &len);

	if (e == 0) {
		e = scan_buffer(&s->r, path, t, buf, len);
		sodium_memzero(buf, len);
		free(buf);
	}
	if (e < 0) {
		warn_err(e, path);
		s->errors++;
	}
	return e;
}

/* Is path inside dir once symlinks and ".." are resolved? An env_file
 * reference comes from the scanned (possibly untrusted) compose file: it
 * must not make a CI scan read /root/.aws/credentials into its report. */
static bool inside(const char *dir, const char *path)
{
	cleanup_free char *rd = realpath(dir, NULL), *rp = realpath(path, NULL);
	size_t n = rd ? strlen(rd) : 0;

	return rd && rp && !strncmp(rd, rp, n) && (rp[n] == '/' || (n == 1 && rd[0] == '/'));
}

/* env_file references of a compose file: relative to the compose file. */
static void scan_refs(struct scan_run *s, const char *compose, size_t from)
{
	const char *slash = strrchr(compose, '/');
	cleanup_free char *dir =
		slash ? strndup(compose, (size_t)(slash - compose) + 1) : strdup(".");

	for (size_t i = from; dir && i < s->r.n_refs; i++) {
		const char *ref = s->r.refs[i].path;
		cleanup_free char *p = NULL;
		char b1[512], b2[512];
		struct stat st;
		while (ref[0] == '.' && ref[1] == '/')
			ref += 2;
		if (asprintf(&p, "%s%s%s", ref[0] == '/' ? "" : dir,
			     ref[0] == '/' || slash ? "" : "/", ref) < 0)
			break;
		text_safe(compose, b1, sizeof b1);
		text_safe(ref, b2, sizeof b2);
		if (stat(p, &st) < 0)
			/* a gitignored .env is common: say so, it is not an error */
			fprintf(stderr, "keyhole: scan: %s:%u: env_file %s not found, skipped\n",
				b1, s->r.refs[i].line, b2);
		else if (!inside(dir, p))
			fprintf(stderr,
				"keyhole: scan: %s:%u: env_file %s is outside the compose "
				"file's directory, not followed\n",
				b1, s->r.refs[i].line, b2);
		else
			scan_one_file(s, p, SCAN_T_ENV);
	}
	if (!dir)
		s->errors++;
}

static bool interesting(const char *name)
{
	char probe[] = "x";
	return scan_detect_type(name, probe, 0) != SCAN_T_ENV || !strcmp(name, ".env") ||
	       !strncmp(name, ".env.", 5) ||
	       (strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".env"));
}

static bool named_type(const char *name)
{
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	if (!interesting(b))
		return false;
	/* only compose-ish YAML and inspect-ish JSON when walking a tree */
	if (strstr(b, ".yml") || strstr(b, ".yaml"))
		return strstr(b, "compose") != NULL;
	if (strstr(b, ".json"))
		return strstr(b, "inspect") != NULL;
	return true;
}

static void scan_path(struct scan_run *s, const char *path, int depth, bool explicit);

static void scan_dir(struct scan_run *s, const char *path, int depth)
{
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, alphasort);

	if (n < 0) {
		warn_err(-errno, path);
		s->errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		cleanup_free char *p = NULL;
		if (strcmp(nm, ".") && strcmp(nm, "..") && strcmp(nm, ".git") &&
		    strcmp(nm, "node_modules") && asprintf(&p, "%s/%s", path, nm) >= 0)
			scan_path(s, p, depth + 1, false);
		free(ents[i]);
	}
	free(ents);
}

static void scan_path(struct scan_run *s, const char *path, int depth, bool explicit)
{
	struct stat st;
	size_t refs_before = s->r.n_refs;

	if (explicit && !strcmp(path, "-")) { /* stdin: --type or content sniffing */
		scan_one_file(s, path, s->force);
		return;
	}
	if ((explicit ? stat(path, &st) : lstat(path, &st)) < 0) {
		warn_err(-errno, path);
		s->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth < SCAN_MAX_DEPTH)
			scan_dir(s, path, depth);
		return;
	}
	if (!S_ISREG(st.st_mode) || (!explicit && !named_type(path)))
		return;
	if (scan_one_file(s, path, explicit ? s->force : SCAN_T_AUTO) == 0)
		scan_refs(s, path, refs_before);
}

static int parse_type(const char *v, enum scan_type *t)
{
	static const enum scan_type all[] = { SCAN_T_DOCKERFILE, SCAN_T_COMPOSE, SCAN_T_ENV,
					      SCAN_T_INSPECT };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (!strcmp(v, scan_type_name(all[i]))) {
			*t = all[i];
			return 0;
		}
	return -1;
}

static int by_location(const void *a, const void *b)
{
	const struct scan_finding *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int emit(struct scan_result *r, enum fmt fmt)
{
	char *out;
	int ok;

	if (r->n > 1)
		qsort(r->f, r->n, sizeof *r->f, by_location);
	out = fmt == FMT_JSON	 ? scan_report_json(r)
	      : fmt == FMT_SARIF ? scan_report_sarif(r, "0.1")
				 : scan_report_table(r);

	if (!out) {
		fprintf(stderr, "keyhole: scan: out of memory\n");
		return -1;
	}
	ok = fputs(out, stdout) != EOF && (fmt == FMT_TABLE || putchar('\n') != EOF) &&
	     fflush(stdout) != EOF;
	free(out);
	return ok ? 0 : -1;
}

static int run_scan(struct cli_ctx *ctx, int argc, char **argv)
{
	struct scan_run s = { .force = SCAN_T_AUTO };
	enum fmt fmt = FMT_TABLE;
	int i, rc;

	(void)ctx;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--json")) {
			fmt = FMT_JSON;
		} else if (!strcmp(argv[i], "--sarif")) {
			fmt = FMT_SARIF;
		} else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			if (parse_type(argv[++i], &s.force) < 0)
				return cli_usage_error("scan", "unknown --type '%s'", argv[i]);
		} else {
			return cli_usage_error("scan", "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc)
		return cli_usage_error("scan", "no PATH given");
	scan_result_init(&s.r);
	for (; i < argc; i++)
		scan_path(&s, argv[i], 0, true);
	rc = emit(&s.r, fmt) < 0 || s.errors ? SCAN_EXIT_ERROR : s.r.n ? CLI_EFAIL : CLI_OK;
	scan_result_free(&s.r);
	return rc;
}

CLI_COMMAND(
	scan, .name = "scan",
	.summary =
		"find credentials and risky settings in Dockerfiles, compose, .env, inspect JSON",
	.usage =
		"usage: keyhole scan [--json | --sarif] [--type dockerfile|compose|env|inspect] PATH...\n"
		"  PATH: files (type from the name, else the content), - for stdin, or directories\n"
		"        (walked for Dockerfile*, *compose*.y*ml, .env*, *.env, *inspect*.json).\n"
		"  Compose env_file references are scanned too. Values are always masked.\n"
		"  Exit: 0 clean, 1 findings, 2 error. See docs/scan.md.\n",
	.run = run_scan);
