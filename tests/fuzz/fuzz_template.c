/* SPDX-License-Identifier: MIT */
/* Fuzz tmpl_parse and tmpl_render (agent/template.c). The first byte picks
 * the escaping, the rest is the template; each referenced secret gets a
 * slice of the input as its value (any bytes, invalid UTF-8 included).
 * Properties: an error reads "LINE:COL: reason"; a parse holds only valid,
 * distinct names within the caps; the size pass and the render agree, the
 * render fits the exact size and refuses one byte less; versions are never
 * 0 and stay below 2^53. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "template.h"

static void check_parsed(const struct tmpl *t)
{
	FUZZ_CHECK(t->n_names <= TMPL_MAX_NAMES && t->n_parts <= TMPL_MAX_PARTS);
	for (size_t i = 0; i < t->n_names; i++) {
		FUZZ_CHECK(proto_secret_name_valid(t->names[i]));
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(t->names[i], t->names[k]) != 0);
	}
	for (size_t i = 0; i < t->n_parts; i++)
		FUZZ_CHECK(t->parts[i].ref < (int)t->n_names);
}

static void check_render(const struct tmpl *t, const uint8_t *data, size_t size)
{
	const uint8_t *v[TMPL_MAX_NAMES];
	size_t l[TMPL_MAX_NAMES], n = 0, got = 0, bad = TMPL_MAX_NAMES;
	uint64_t ver[TMPL_MAX_NAMES], x;
	uint8_t *out;
	int r;

	for (size_t i = 0; i < t->n_names; i++) {
		v[i] = data + (size ? i % size : 0);
		l[i] = size ? (i * 13) % (size - (size_t)(v[i] - data) + 1) : 0;
		ver[i] = i + 1;
	}
	r = tmpl_render_size(t, v, l, &n, &bad);
	if (r == -EILSEQ) {
		FUZZ_CHECK(t->esc == TMPL_ESC_JSON && bad < t->n_names);
		return;
	}
	FUZZ_CHECK(r == 0 || r == -EFBIG);
	if (r < 0)
		return;
	FUZZ_CHECK(n <= TMPL_MAX_OUT);
	out = malloc(n ? n : 1);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(tmpl_render(t, v, l, out, n, &got) == 0 && got == n);
	if (n)
		FUZZ_CHECK(tmpl_render(t, v, l, out, n - 1, &got) == -ENOBUFS);
	free(out);
	x = tmpl_version(t, ver);
	FUZZ_CHECK(x != 0 && x < ((uint64_t)1 << 53));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl *t = NULL;
	char err[64]; /* small on purpose: a cut message must stay a string */
	size_t k = 0;
	int r;

	if (size == 0)
		return 0;
	r = tmpl_parse((const char *)data + 1, size - 1, (enum tmpl_escape)(data[0] % 4), &t, err,
		       sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL && t == NULL && strnlen(err, sizeof(err)) < sizeof(err));
		while (err[k] >= '0' && err[k] <= '9')
			k++;
		FUZZ_CHECK(k > 0 && err[k] == ':');
		return 0;
	}
	check_parsed(t);
	check_render(t, data, size);
	tmpl_free(t);
	return 0;
}
