/* SPDX-License-Identifier: MIT */
/* Scanner dispatcher, the top of scan/: picks the driver for a file (by
 * name, then by content) and hands it the buffer. Drivers stand on the core
 * (scan_core.c, scan_detect.c, scan_lex.c) and never call back up here. */
#include "scan.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "scan_drivers.h"

const char *scan_type_name(enum scan_type t)
{
	switch (t) {
	case SCAN_T_DOCKERFILE: return "dockerfile";
	case SCAN_T_COMPOSE: return "compose";
	case SCAN_T_ENV: return "env";
	case SCAN_T_INSPECT: return "inspect";
	case SCAN_T_AUTO: break;
	}
	return "auto";
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static enum scan_type type_from_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	b = b ? b + 1 : (path ? path : "");
	if (!strncasecmp(b, "Dockerfile", 10) || !strncasecmp(b, "Containerfile", 13) ||
	    ends_with(b, ".dockerfile") || ends_with(b, ".containerfile"))
		return SCAN_T_DOCKERFILE;
	if (ends_with(b, ".yml") || ends_with(b, ".yaml"))
		return SCAN_T_COMPOSE;
	if (ends_with(b, ".json"))
		return SCAN_T_INSPECT;
	if (!strcmp(b, ".env") || !strncmp(b, ".env.", 5) || ends_with(b, ".env"))
		return SCAN_T_ENV;
	return SCAN_T_AUTO;
}

enum scan_type scan_detect_type(const char *path, const char *buf, size_t len)
{
	enum scan_type t = type_from_name(path);
	size_t i = 0;

	if (t != SCAN_T_AUTO)
		return t;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && (buf[i] == '[' || buf[i] == '{'))
		return SCAN_T_INSPECT;
	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(buf + ls, '\n', len - ls);
		size_t ll = nl ? (size_t)(nl - buf) - ls : len - ls;
		if (ll >= 5 && !strncasecmp(buf + ls, "FROM ", 5))
			return SCAN_T_DOCKERFILE;
		if (ll >= 9 && !strncmp(buf + ls, "services:", 9))
			return SCAN_T_COMPOSE;
		ls += ll + 1;
	}
	return SCAN_T_ENV;
}

int scan_buffer(struct scan_result *r, const char *path, enum scan_type t, const char *buf,
		size_t len)
{
	if (len > SCAN_MAX_INPUT)
		return -E2BIG;
	if (t == SCAN_T_AUTO)
		t = scan_detect_type(path, buf, len);
	switch (t) {
	case SCAN_T_DOCKERFILE: return scan_dockerfile(r, path, buf, len);
	case SCAN_T_COMPOSE: return scan_compose(r, path, buf, len);
	case SCAN_T_INSPECT: return scan_inspect(r, path, buf, len);
	case SCAN_T_ENV: return scan_dotenv(r, path, buf, len);
	case SCAN_T_AUTO: break;
	}
	return -EINVAL;
}
