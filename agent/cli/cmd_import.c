/* SPDX-License-Identifier: MIT */
/* `keyhole import FILE` adds sealed records made by `keyhole seal` (one
 * record, or a JSON array of them). `keyhole import --from FILE` moves the
 * credentials scan finds in a Dockerfile / compose / .env file into the
 * keystore, then prints (or --write applies, keeping FILE.keyhole-bak) the
 * rewritten file, the run flags and a policy rule. Values are never printed.
 * Idempotent: existing names are compared when the private key is here, and
 * never overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "text.h"
#include "io.h"
#include "migrate.h"
#include "scan.h"
#include "util.h"

#define IMPORT_MAX_SEALED (16u << 20)

struct imp_opts {
	const char *from, *prefix, *image;
	enum scan_type type;
	enum mig_delivery deliver;
	bool dry_run, write;
};

/* ---- sealed records ---- */

static int import_sealed(struct cli_ctx *ctx, const char *path)
{
	cleanup_free char *doc = NULL;
	struct ks_store *ks = NULL;
	size_t len = 0, i;
	json_t *root, *rec;
	int r = cli_read_small_file(path, IMPORT_MAX_SEALED, &doc, &len);

	if (r < 0)
		return cli_fail(r, "import: %s", path);
	root = json_loadb(doc, len, 0, NULL);
	if (!json_is_object(root) && !json_is_array(root)) {
		json_decref(root);
		return cli_fail(-EBADMSG, "import: %s", path);
	}
	if ((r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks)) != 0) { /* a writer: signs */
		json_decref(root);
		return r;
	}
	if (json_is_object(root)) {
		int e = ks_import_record(ks, doc, len);
		r = e < 0 ? cli_fail(e, "import: %s", path) : CLI_OK;
	} else {
		json_array_foreach(root, i, rec)
		{
			char *one = json_dumps(rec, JSON_COMPACT);
			int e = one ? ks_import_record(ks, one, strlen(one)) : -ENOMEM;
			free(one);
			if (e < 0) {
				r = cli_fail(e, "import: %s: record %zu (%zu before it imported)",
					     path, i, i);
				break;
			}
		}
	}
	ks_close(ks);
	json_decref(root);
	return r;
}

/* ---- --from: store ---- */

/* 0 stored or already there with this value / not comparable; 1 conflict. */
static int store_one(struct ks_store *ks, const struct mig_secret *s)
{
	struct ks_secret *cur = NULL;
	uint64_t ver = 0;
	char v[300];
	int e = ks_put(ks, s->secret, (const uint8_t *)s->f->value, s->f->value_len, &ver);

	if (e == 0) {
		printf("stored     %-32s (%s, version %llu)\n", s->secret,
		       text_safe(s->var, v, sizeof v), (unsigned long long)ver);
		return 0;
	}
	if (e != -EEXIST)
		return cli_fail(e, "import: put %s", s->secret);
	e = ks_get(ks, s->secret, 0, &cur);
	if (e < 0) {
		printf("exists     %-32s (%s; no private key here to compare: kept)\n", s->secret,
		       text_safe(s->var, v, sizeof v));
		return 0;
	}
	e = cur->len == s->f->value_len && sodium_memcmp(cur->data, s->f->value, cur->len) == 0;
	ks_secret_free(cur);
	if (e) {
		printf("unchanged  %-32s (%s, same value)\n", s->secret,
		       text_safe(s->var, v, sizeof v));
		return 0;
	}
	fprintf(stderr,
		"keyhole: import: %s exists with a different value: not overwritten "
		"(keyhole rotate %s)\n",
		s->secret, s->secret);
	return 1;
}

static int store_all(struct cli_ctx *ctx, const struct mig_plan *p)
{
	struct ks_store *ks = NULL;
	int r = cli_open_store(ctx, CLI_KEY_IF_AVAIL, &ks), conflicts = 0;

	if (r)
		return r;
	for (size_t i = 0; r == 0 && i < p->n; i++) {
		int e = store_one(ks, &p->s[i]);
		if (e == 1)
			conflicts++;
		else if (e)
			r = e;
	}
	ks_close(ks);
	return r ? r : conflicts ? CLI_EEXIST : CLI_OK;
}

/* ---- --from: write ---- */

static int write_all_fd(int fd, const char *s, size_t n)
{
	int w = io_write_all(fd, s, n);
	return w < 0 ? w : 0;
}

/* FILE.keyhole-bak is a hard link to the original inode (no copy of the
 * plaintext is made); the new text goes in through temp + rename. */
static int write_file(const char *path, const struct mig_plan *p)
{
	cleanup_free char *bak = NULL, *tmp = NULL, *dir = NULL;
	cleanup_close int fd = -1, dfd = -1;
	struct stat st;
	int e = 0;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL; /* not through a symlink: rename would replace it */
	if (asprintf(&bak, "%s.keyhole-bak", path) < 0 ||
	    asprintf(&tmp, "%s.keyhole-tmp.XXXXXX", path) < 0 || !(dir = strdup(path)))
		return -ENOMEM;
	if (link(path, bak) < 0)
		return errno == EEXIST ? -EEXIST : -errno;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		goto fail;
	}
	(void)!fchown(fd, st.st_uid, st.st_gid); /* best effort: keep the owner */
	if (fchmod(fd, st.st_mode & 07777) < 0 ||
	    (e = write_all_fd(fd, p->rewritten, p->rewritten_len)) < 0 || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		e = e < 0 ? e : -errno;
		unlink(tmp);
		goto fail;
	}
	(void)chmod(bak, 0600); /* the backup still holds the values */
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	dfd = open(dir[0] ? dir : (path[0] == '/' ? "/" : "."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
fail:
	unlink(bak);
	return e;
}

static int backup_free(const char *path)
{
	cleanup_free char *bak = NULL;
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return cli_fail(-EINVAL, "import: --write %s: not a regular file (a symlink?)",
				path);
	if (asprintf(&bak, "%s.keyhole-bak", path) < 0)
		return cli_fail(-ENOMEM, "import");
	if (lstat(bak, &st) == 0)
		return cli_fail(-EEXIST, "import: %s (move it away first)", bak);
	return CLI_OK;
}

/* ---- --from: output ---- */

/* Credentials that stay in the file (RUN, LABEL, conflicts) are shown
 * masked: the printed rewrite never carries a value. */
static void print_masked(const char *t, size_t n, const struct scan_result *r)
{
	for (size_t i = 0; i < n;) {
		size_t hit = 0;
		const char *mask = NULL;
		for (size_t k = 0; k < r->n && !hit; k++) {
			const struct scan_finding *f = &r->f[k];
			if (f->value && f->value_len && f->value_len <= n - i &&
			    !memcmp(t + i, f->value, f->value_len)) {
				hit = f->value_len;
				mask = f->masked;
			}
		}
		if (hit) {
			fputs(mask, stdout);
			i += hit;
		} else {
			putchar(t[i++]);
		}
	}
}

static void print_plan(const struct imp_opts *o, const struct mig_plan *p,
		       const struct scan_result *r)
{
	bool dockerfile = p->type == SCAN_T_DOCKERFILE;

	printf("# keyhole import: %zu credential%s in %s (%s)\n", p->n, p->n == 1 ? "" : "s",
	       o->from, scan_type_name(p->type));
	for (size_t i = 0; i < p->n; i++) {
		char v[300];
		printf("#   %s -> %s (%s:%u, %s)\n", text_safe(p->s[i].var, v, sizeof v),
		       p->s[i].secret, o->from, p->s[i].f->line, scan_rule_name(p->s[i].f->rule));
	}
	if (!o->write) {
		printf("# --- rewritten %s%s (values left in it shown masked) ---\n", o->from,
		       p->changed ? "" : ", unchanged");
		print_masked(p->rewritten, p->rewritten_len, r);
		if (p->rewritten_len && p->rewritten[p->rewritten_len - 1] != '\n')
			putchar('\n');
	}
	printf("# --- run flags (the app reads %s/<file>) ---\n", MIG_SECRETS_DIR);
	printf("docker run %s%s ...\n", mig_run_flags(),
	       dockerfile ? "" : " --entrypoint " MIG_SHIM_PATH " IMAGE -- CMD");
	printf("# --- policy rules (add to \"rules\" in the policy file) ---\n%s\n", p->policy);
	if (p->notes && p->notes[0])
		printf("# --- notes ---\n%s", p->notes);
}

static int import_from(struct cli_ctx *ctx, const struct imp_opts *o)
{
	struct scan_result r;
	struct mig_plan p = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int e = cli_read_small_file(o->from, SCAN_MAX_INPUT, &buf, &len), rc = CLI_OK;

	if (e < 0)
		return cli_fail(e, "import: %s", o->from);
	scan_result_init(&r);
	e = scan_buffer(&r, o->from, o->type, buf, len);
	if (e == 0)
		e = mig_plan_build(o->from, buf, len, o->type, &r, o->prefix, o->image, &p);
	if (e == 0)
		e = mig_policy_delivery(&p, o->deliver);
	if (e < 0) {
		rc = cli_fail(e, "import: %s", o->from);
		goto out;
	}
	if (o->write && p.changed && (rc = backup_free(o->from)) != CLI_OK)
		goto out; /* before storing anything */
	if (!o->dry_run && p.n)
		rc = store_all(ctx, &p);
	if (rc == CLI_OK && o->write && p.changed) {
		e = write_file(o->from, &p);
		if (e < 0)
			rc = cli_fail(e, "import: writing %s (backup %s.keyhole-bak)", o->from,
				      o->from);
		else
			printf("# wrote %s; the original is %s.keyhole-bak (0600, still holds "
			       "the values: delete it once the app runs)\n",
			       o->from, o->from);
	} else if (o->write && rc == CLI_OK) {
		printf("# %s unchanged: nothing to write\n", o->from);
	}
	print_plan(o, &p, &r);
	fflush(stdout);
out:
	mig_plan_free(&p);
	scan_result_free(&r);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

static int parse(int argc, char **argv, struct imp_opts *o, const char **ret_file)
{
	static const enum scan_type types[] = { SCAN_T_DOCKERFILE, SCAN_T_COMPOSE, SCAN_T_ENV };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool val = i + 1 < argc;
		if (!strcmp(a, "--from") && val)
			o->from = argv[++i];
		else if (!strcmp(a, "--prefix") && val)
			o->prefix = argv[++i];
		else if (!strcmp(a, "--image") && val)
			o->image = argv[++i];
		else if (!strcmp(a, "--deliver") && val) {
			const char *d = argv[++i];
			if (!strcmp(d, "file"))
				o->deliver = MIG_D_FILE;
			else if (!strcmp(d, "env-file"))
				o->deliver = MIG_D_ENV_FILE;
			else if (!strcmp(d, "env"))
				o->deliver = MIG_D_ENV;
			else
				return cli_usage_error(
					"import", "--deliver: '%s' is not file, env-file or env",
					d);
		} else if (!strcmp(a, "--dry-run"))
			o->dry_run = true;
		else if (!strcmp(a, "--write"))
			o->write = true;
		else if (!strcmp(a, "--type") && val) {
			o->type = SCAN_T_INSPECT;
			for (size_t k = 0; k < ARRAY_SIZE(types); k++)
				if (!strcmp(argv[i + 1], scan_type_name(types[k])))
					o->type = types[k];
			if (o->type == SCAN_T_INSPECT)
				return cli_usage_error("import", "unknown --type '%s'",
						       argv[i + 1]);
			i++;
		} else if (a[0] == '-' && a[1])
			return cli_usage_error("import", "unknown option or missing value '%s'", a);
		else if (*ret_file)
			return cli_usage_error("import", "one FILE only");
		else
			*ret_file = a;
	}
	return 0;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct imp_opts o = { .type = SCAN_T_AUTO };
	const char *file = NULL;
	int r = parse(argc, argv, &o, &file);

	if (r)
		return r;
	if (!o.from) {
		if (!file || o.prefix || o.image || o.dry_run || o.write || o.deliver)
			return cli_usage_error("import", "expected FILE, or --from FILE");
		return import_sealed(ctx, file);
	}
	if (file)
		return cli_usage_error("import", "--from FILE takes no other FILE");
	if (o.dry_run && o.write)
		return cli_usage_error("import", "--dry-run and --write exclude each other");
	return import_from(ctx, &o);
}

CLI_COMMAND(import, .name = "import",
	    .summary = "add sealed records, or move credentials from a Dockerfile/compose/.env",
	    .usage = "usage: keyhole import FILE\n"
		     "       keyhole import --from FILE [--prefix NAME/] [--image IMAGE]\n"
		     "                      [--type dockerfile|compose|env] [--dry-run | --write]\n"
		     "                      [--deliver file|env-file|env]\n\n"
		     "FILE: sealed-record JSON from `keyhole seal` (one record or an array).\n"
		     "--from: store each credential `keyhole scan` finds in FILE as\n"
		     "<prefix><lowercased name>, then print the file without the values (the\n"
		     "Dockerfile ENTRYPOINT wrapped by keyhole-shim), the docker run flags and\n"
		     "a policy rule granting exactly those secrets to IMAGE. Existing names are\n"
		     "never overwritten: same value (checked with the private key) = unchanged.\n"
		     "--dry-run stores nothing. --write replaces FILE atomically and keeps the\n"
		     "original as FILE.keyhole-bak (refused if that exists). --deliver env-file\n"
		     "adds \"env_file\": \"<NAME>_FILE\" to each grant (the app reads the file\n"
		     "that variable names); --deliver env grants \"env\": \"<NAME>\" instead (the\n"
		     "value in the app's environment: opt-in, see docs/migrating.md).\n",
	    .run = run);
