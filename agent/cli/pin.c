/* SPDX-License-Identifier: MIT */
/* known_stores: one "STORE_ID SHA256:FINGERPRINT" line per store, '#'
 * comments. Written through a temp file + rename; only ever appended to by
 * first use, never silently changed (see pin.h). */
#include "pin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "util.h"

static int known_path(char **ret)
{
	const char *env = getenv("KEYHOLE_KNOWN_STORES"), *home = getenv("HOME");

	if (env && *env)
		return (*ret = strdup(env)) ? 0 : -ENOMEM;
	if (!home || !*home)
		return -ENOENT;
	if (asprintf(ret, "%s/.config/keyhole/known_stores", home) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int mismatch(const char *store_id, const char *want, const char *got, const char *where)
{
	fprintf(stderr,
		"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		"@    WARNING: STORE PUBLIC KEY HAS CHANGED!               @\n"
		"@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		"Someone may have replaced the public key of store %s so that\n"
		"new values are sealed to THEIR key. Nothing was written.\n"
		"Pinned fingerprint (%s): %s\n"
		"Store's fingerprint now:  %s\n"
		"If the store was really re-created, remove its line from the known\n"
		"stores file (or fix --pubkey-fingerprint) after checking with its admin.\n"
		"keyhole: pin check failed: store public key does not match the pinned fingerprint\n",
		store_id, where, want, got);
	return CLI_EPIN;
}

/* The fingerprint recorded for store_id in text, copied to out; false if none. */
static bool lookup(const char *text, const char *store_id, char out[KS_FP_LEN])
{
	size_t idlen = strlen(store_id);
	const char *p = text;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *fp = p + idlen + 1;
		size_t n;

		if (strncmp(p, store_id, idlen) != 0 || p[idlen] != ' ')
			continue;
		n = strcspn(fp, "\n");
		if (n >= KS_FP_LEN)
			n = KS_FP_LEN - 1;
		memcpy(out, fp, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static int record(const char *path, const char *text, const char *store_id, const char *fp)
{
	cleanup_free char *dir = strdup(path);
	cleanup_free char *tmp = NULL;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	FILE *f;

	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0700); /* ~/.config/keyhole on first use */
	}
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s%s %s\n", text ? text : "", store_id, fp);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		(void)remove(tmp);
		return -EIO;
	}
	return 0;
}

/* Compare with known_stores, or record on first use. */
static int check_known(const char *path, const char *store_id, const char *fp)
{
	char want[KS_FP_LEN], *text = NULL;
	size_t len = 0;
	int r = cli_read_small_file(path, 1u << 20, &text, &len);

	if (r < 0 && r != -ENOENT)
		return cli_fail(r, "%s", path);
	if (text && lookup(text, store_id, want)) {
		free(text);
		return strcmp(want, fp) == 0 ? 0 : mismatch(store_id, want, fp, path);
	}
	r = record(path, text, store_id, fp);
	free(text);
	if (r < 0)
		return cli_fail(r, "recording the store's key in %s", path);
	fprintf(stderr,
		"keyhole: first use of store %s: public key fingerprint %s\n"
		"keyhole: recorded in %s; a different key will be refused from now on\n",
		store_id, fp, path);
	return 0;
}

int cli_pin_check(const char *store_id, const uint8_t pk[KS_PK_BYTES])
{
	const char *explicit_fp = getenv("KEYHOLE_PUBKEY_FINGERPRINT");
	char fp[KS_FP_LEN], *path = NULL;
	int r;

	ks_fingerprint(pk, fp);
	if (explicit_fp && *explicit_fp)
		return strcmp(explicit_fp, fp) == 0
			       ? 0
			       : mismatch(store_id, explicit_fp, fp, "--pubkey-fingerprint");
	r = known_path(&path);
	if (r < 0)
		return cli_fail(r, "known stores file (set HOME or KEYHOLE_KNOWN_STORES)");
	r = check_known(path, store_id, fp);
	free(path);
	return r;
}
