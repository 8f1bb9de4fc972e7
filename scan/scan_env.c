/* SPDX-License-Identifier: MIT */
/* .env files (KEY=VALUE, `export`, quotes incl. multi-line double-quoted
 * values, inline comments) and `docker|podman inspect` JSON (Config.Env,
 * Labels, User, ExposedPorts, HostConfig privileged / host namespaces).
 * Pure; untrusted text. Scratch copies of values are wiped. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "scan_drivers.h"
#include "scan_detect.h"

static bool hblank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Decode a quoted value starting after the opening quote at *i; lines are
 * counted into *line. Returns false when the quote never closes. */
static bool env_quoted(const char *b, size_t len, size_t *i, char q, char *out, size_t *ol,
		       unsigned *line)
{
	size_t o = 0;

	for (; *i < len; (*i)++) {
		char c = b[*i];
		if (c == '\n')
			(*line)++;
		if (c == q) {
			(*i)++;
			*ol = o;
			return true;
		}
		if (q == '"' && c == '\\' && *i + 1 < len) {
			char n = b[++*i];
			out[o++] = n == 'n' ? '\n' : n;
			continue;
		}
		out[o++] = c;
	}
	return false;
}

static void env_line_end(const char *b, size_t len, size_t *i)
{
	while (*i < len && b[*i] != '\n')
		(*i)++;
	if (*i < len)
		(*i)++;
}

/* One entry starting at the name; advances *i past it. */
static int env_entry(struct scan_result *r, const char *file, const char *b, size_t len, size_t *i,
		     unsigned *line, char *out)
{
	size_t ns = *i, ne, ol = 0;
	unsigned start = *line;
	char name[256];

	while (*i < len && b[*i] != '=' && b[*i] != '\n')
		(*i)++;
	if (*i >= len || b[*i] != '=') {
		env_line_end(b, len, i);
		(*line)++;
		return 0; /* bare NAME: taken from the environment */
	}
	ne = *i;
	while (ne > ns && hblank(b[ne - 1]))
		ne--;
	snprintf(name, sizeof name, "%.*s", (int)(ne - ns < 255 ? ne - ns : 255), b + ns);
	(*i)++;
	while (*i < len && hblank(b[*i]))
		(*i)++;
	if (*i < len && (b[*i] == '"' || b[*i] == '\'')) {
		char q = b[(*i)++];
		if (!env_quoted(b, len, i, q, out, &ol, line))
			return -EBADMSG;
	} else {
		size_t vs = *i;
		while (*i < len && b[*i] != '\n' && !(b[*i] == '#' && *i > vs && hblank(b[*i - 1])))
			(*i)++;
		ol = *i - vs;
		memcpy(out, b + vs, ol);
		while (ol && hblank(out[ol - 1]))
			ol--;
	}
	out[ol] = '\0';
	env_line_end(b, len, i);
	(*line)++;
	return scan_check_pair(r, file, start, *line - 1, SCAN_SRC_DOTENV, name, NULL, out, ol);
}

int scan_dotenv(struct scan_result *r, const char *file, const char *b, size_t len)
{
	char *out = malloc(len + 1);
	unsigned line = 1;
	size_t i = 0;
	int e = 0;

	if (!out)
		return -ENOMEM;
	while (e == 0 && i < len) {
		while (i < len && hblank(b[i]))
			i++;
		if (i >= len)
			break;
		if (b[i] == '\n' || b[i] == '#') {
			env_line_end(b, len, &i);
			line++;
			continue;
		}
		if (len - i > 7 && !memcmp(b + i, "export", 6) && hblank(b[i + 6]))
			for (i += 6; i < len && hblank(b[i]); i++)
				;
		e = env_entry(r, file, b, len, &i, &line, out);
	}
	sodium_memzero(out, len + 1);
	free(out);
	return e;
}

/* ---- inspect JSON ---- */

static unsigned line_of(const char *b, size_t len, const char *needle)
{
	const char *p = memmem(b, len, needle, strlen(needle));
	unsigned line = 1;

	if (!p)
		return 1;
	for (const char *q = b; q < p; q++)
		line += *q == '\n';
	return line;
}

static int insp_env(struct scan_result *r, const char *file, const char *b, size_t len, json_t *env,
		    const char *who)
{
	size_t i;
	json_t *v;
	int e = 0;

	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v), *eq;
		char name[256], needle[270];
		if (!s || !(eq = strchr(s, '=')))
			continue;
		snprintf(name, sizeof name, "%.*s", (int)((size_t)(eq - s) < 255 ? eq - s : 255),
			 s);
		snprintf(needle, sizeof needle, "\"%s=", name);
		e = scan_check_pair(r, file, line_of(b, len, needle), 0, SCAN_SRC_NONE, name, who,
				    eq + 1, json_string_length(v) - (size_t)(eq + 1 - s));
		if (e)
			break;
	}
	return e;
}

static int insp_labels(struct scan_result *r, const char *file, const char *b, size_t len,
		       json_t *labels, const char *who)
{
	const char *k;
	json_t *v;
	int e = 0;

	json_object_foreach(labels, k, v)
	{
		char needle[270];
		if (!json_is_string(v))
			continue;
		snprintf(needle, sizeof needle, "\"%.255s\"", k);
		e = scan_check_pair(r, file, line_of(b, len, needle), 0, SCAN_SRC_NONE, k, who,
				    json_string_value(v), json_string_length(v));
		if (e)
			break;
	}
	return e;
}

#define INSP_MAX_ARGV 64u

/* The process the image starts, Entrypoint + Cmd: keyhole-shim dropping to
 * a non-root --user? */
static bool insp_shim_drops(json_t *cfg)
{
	json_t *parts[2] = { json_object_get(cfg, "Entrypoint"), json_object_get(cfg, "Cmd") };
	const char *argv[INSP_MAX_ARGV];
	size_t argc = 0, i;
	json_t *v;

	for (size_t p = 0; p < 2; p++)
		json_array_foreach(parts[p], i, v)
		{
			if (argc == INSP_MAX_ARGV || !json_is_string(v))
				break;
			argv[argc++] = json_string_value(v);
		}
	return scan_shim_drops_root(argv, argc);
}

static bool insp_root(json_t *cfg)
{
	const char *user = json_string_value(json_object_get(cfg, "User"));

	return (!user || !*user || !strcmp(user, "root") || !strcmp(user, "0") ||
		!strncmp(user, "root:", 5) || !strncmp(user, "0:", 2)) &&
	       !insp_shim_drops(cfg);
}

static int insp_posture(struct scan_result *r, const char *file, const char *b, size_t len,
			json_t *cfg, json_t *hc, const char *who)
{
	static const char *const ns[] = { "NetworkMode", "PidMode", "IpcMode" };
	json_t *ports = json_object_get(cfg, "ExposedPorts");
	char why[160];
	int e = 0;

	if (insp_root(cfg))
		e = scan_add(r, file, line_of(b, len, "\"User\""), 0, SCAN_R_ROOT_USER,
			     SCAN_SRC_NONE, NULL, who,
			     "image config runs as root (User empty or root)", NULL, 0);
	if (!e && json_object_size(ports) > 1) {
		snprintf(why, sizeof why, "%zu ports exposed", json_object_size(ports));
		e = scan_add(r, file, line_of(b, len, "\"ExposedPorts\""), 0, SCAN_R_EXPOSE,
			     SCAN_SRC_NONE, NULL, who, why, NULL, 0);
	}
	if (!e && json_is_true(json_object_get(hc, "Privileged")))
		e = scan_add(r, file, line_of(b, len, "\"Privileged\""), 0, SCAN_R_PRIVILEGED,
			     SCAN_SRC_NONE, NULL, who, "HostConfig.Privileged is true", NULL, 0);
	for (size_t i = 0; !e && i < 3; i++) {
		const char *m = json_string_value(json_object_get(hc, ns[i]));
		if (m && !strcmp(m, "host")) {
			char needle[32];
			snprintf(why, sizeof why, "HostConfig.%s is host", ns[i]);
			snprintf(needle, sizeof needle, "\"%s\"", ns[i]);
			e = scan_add(r, file, line_of(b, len, needle), 0, SCAN_R_HOST_NS,
				     SCAN_SRC_NONE, NULL, who, why, NULL, 0);
		}
	}
	return e;
}

static int insp_one(struct scan_result *r, const char *file, const char *b, size_t len, json_t *o)
{
	json_t *cfg = json_object_get(o, "Config");
	json_t *hc = json_object_get(o, "HostConfig");
	const char *who = json_string_value(json_object_get(o, "Name"));
	int e;

	if (!json_is_object(cfg))
		cfg = json_object_get(o, "config"); /* OCI image config */
	if (!json_is_object(cfg))
		return -EBADMSG;
	if (who && *who == '/')
		who++;
	e = insp_env(r, file, b, len, json_object_get(cfg, "Env"), who);
	if (!e)
		e = insp_labels(r, file, b, len, json_object_get(cfg, "Labels"), who);
	return e ? e : insp_posture(r, file, b, len, cfg, hc, who);
}

int scan_inspect(struct scan_result *r, const char *file, const char *b, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(b, len, JSON_REJECT_DUPLICATES, &err), *o;
	size_t i;
	int e = 0;

	if (!root)
		return -EBADMSG;
	if (json_is_object(root)) {
		e = insp_one(r, file, b, len, root);
	} else if (json_is_array(root)) {
		json_array_foreach(root, i, o)
		{
			if ((e = json_is_object(o) ? insp_one(r, file, b, len, o) : -EBADMSG) != 0)
				break;
		}
	} else {
		e = -EBADMSG;
	}
	json_decref(root);
	return e;
}
