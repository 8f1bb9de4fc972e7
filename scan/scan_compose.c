/* SPDX-License-Identifier: MIT */
/* Compose file scanner over libyaml's document API: services.*.environment
 * (mapping or list, `<<` merge keys), env_file references (returned for the
 * caller to read), privileged and host network/pid/ipc. Pure; untrusted
 * YAML. Aliases are graph edges, not copies, and a visit budget bounds the
 * walk, so "billion laughs" documents cost nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cleanup.h"
#include "scan_drivers.h"
#include "scan_detect.h"

#define CO_MAX_VISITS 100000u
#define CO_MAX_MERGE_DEPTH 8

struct co_ctx {
	struct scan_result *r;
	const char *file;
	yaml_document_t *d;
	const char *service;
	unsigned visits;
};

static yaml_node_t *node(struct co_ctx *c, int id)
{
	return yaml_document_get_node(c->d, id);
}

static const char *scalar(yaml_node_t *n, size_t *ret_len)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	if (ret_len)
		*ret_len = n->data.scalar.length;
	return (const char *)n->data.scalar.value;
}

static bool scalar_is(yaml_node_t *n, const char *s)
{
	const char *v = scalar(n, NULL);
	return v && !strcmp(v, s);
}

static yaml_node_t *map_get(struct co_ctx *c, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (scalar_is(node(c, p->key), key))
			return node(c, p->value);
	return NULL;
}

static unsigned end_line(yaml_node_t *n)
{
	unsigned l = (unsigned)n->end_mark.line + 1;
	/* block scalars end at column 0 of the next line */
	if (n->end_mark.column == 0 && n->end_mark.line > n->start_mark.line)
		l--;
	return l;
}

static int env_map(struct co_ctx *c, yaml_node_t *m, int depth, bool merged)
{
	bool flow = m->data.mapping.style == YAML_FLOW_MAPPING_STYLE;
	int e = 0;

	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     e == 0 && p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *name = scalar(k, NULL), *val;
		size_t vl;
		if (++c->visits > CO_MAX_VISITS)
			return -E2BIG;
		if (!name || !v)
			continue;
		if (!strcmp(name, "<<") && depth < CO_MAX_MERGE_DEPTH) {
			if (v->type == YAML_MAPPING_NODE)
				e = env_map(c, v, depth + 1, true);
			else if (v->type == YAML_SEQUENCE_NODE)
				for (yaml_node_item_t *it = v->data.sequence.items.start;
				     e == 0 && it < v->data.sequence.items.top; it++) {
					yaml_node_t *mm = node(c, *it);
					if (mm && mm->type == YAML_MAPPING_NODE)
						e = env_map(c, mm, depth + 1, true);
				}
			continue;
		}
		if ((val = scalar(v, &vl)) == NULL)
			continue;
		e = scan_check_pair(c->r, c->file, (unsigned)k->start_mark.line + 1, end_line(v),
				    flow || merged ? SCAN_SRC_NONE : SCAN_SRC_COMPOSE, name,
				    c->service, val, vl);
	}
	return e;
}

static int env_list(struct co_ctx *c, yaml_node_t *s)
{
	bool flow = s->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE;
	int e = 0;

	for (yaml_node_item_t *it = s->data.sequence.items.start;
	     e == 0 && it < s->data.sequence.items.top; it++) {
		yaml_node_t *n = node(c, *it);
		size_t len;
		const char *v = scalar(n, &len), *eq;
		char name[256];
		if (++c->visits > CO_MAX_VISITS)
			return -E2BIG;
		if (!v || !(eq = memchr(v, '=', len)))
			continue;
		snprintf(name, sizeof name, "%.*s", (int)((size_t)(eq - v) < 255 ? eq - v : 255),
			 v);
		e = scan_check_pair(c->r, c->file, (unsigned)n->start_mark.line + 1, end_line(n),
				    flow ? SCAN_SRC_NONE : SCAN_SRC_COMPOSE, name, c->service,
				    eq + 1, len - (size_t)(eq + 1 - v));
	}
	return e;
}

static int add_ref(struct co_ctx *c, yaml_node_t *n)
{
	struct scan_result *r = c->r;
	const char *path = scalar(n, NULL);
	struct scan_ref *nr;

	if (!path) /* long form: {path: ..., required: ...} */
		path = scalar(map_get(c, n, "path"), NULL);
	if (!path || r->n_refs >= 256)
		return path ? -E2BIG : 0;
	nr = reallocarray(r->refs, r->n_refs + 1, sizeof *nr);
	if (!nr)
		return -ENOMEM;
	r->refs = nr;
	nr[r->n_refs] = (struct scan_ref){ .path = strdup(path),
					   .service = strdup(c->service),
					   .line = (unsigned)n->start_mark.line + 1 };
	if (!nr[r->n_refs].path || !nr[r->n_refs].service) {
		free(nr[r->n_refs].path);
		free(nr[r->n_refs].service);
		return -ENOMEM;
	}
	r->n_refs++;
	return 0;
}

static int posture(struct co_ctx *c, yaml_node_t *svc)
{
	static const char *const ns[] = { "network_mode", "pid", "ipc" };
	yaml_node_t *n = map_get(c, svc, "privileged");
	char why[128];
	int e = 0;

	if (n && (scalar_is(n, "true") || scalar_is(n, "True") || scalar_is(n, "yes")))
		e = scan_add(c->r, c->file, (unsigned)n->start_mark.line + 1, 0, SCAN_R_PRIVILEGED,
			     SCAN_SRC_NONE, NULL, c->service, "privileged: true", NULL, 0);
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(ns); i++) {
		n = map_get(c, svc, ns[i]);
		if (!scalar_is(n, "host"))
			continue;
		snprintf(why, sizeof why, "%s: host", ns[i]);
		e = scan_add(c->r, c->file, (unsigned)n->start_mark.line + 1, 0, SCAN_R_HOST_NS,
			     SCAN_SRC_NONE, NULL, c->service, why, NULL, 0);
	}
	return e;
}

static int service(struct co_ctx *c, yaml_node_t *svc)
{
	yaml_node_t *env = map_get(c, svc, "environment"), *ef = map_get(c, svc, "env_file");
	const char *image = scalar(map_get(c, svc, "image"), NULL);
	struct scan_service *ns;
	char *name, *img;
	int e = 0;

	if (image && !c->r->image && !(c->r->image = strdup(image)))
		return -ENOMEM;
	if (c->r->n_services >= 1024)
		return -E2BIG;
	ns = reallocarray(c->r->services, c->r->n_services + 1, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	c->r->services = ns;
	name = strdup(c->service);
	img = image ? strdup(image) : NULL;
	if (!name || (image && !img)) {
		free(name);
		free(img);
		return -ENOMEM;
	}
	ns[c->r->n_services++] = (struct scan_service){ name, img };
	if (env && env->type == YAML_MAPPING_NODE)
		e = env_map(c, env, 0, false);
	else if (env && env->type == YAML_SEQUENCE_NODE)
		e = env_list(c, env);
	if (e == 0 && ef && ef->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = ef->data.sequence.items.start;
		     e == 0 && it < ef->data.sequence.items.top; it++)
			e = add_ref(c, node(c, *it));
	} else if (e == 0 && ef) {
		e = add_ref(c, ef);
	}
	return e ? e : posture(c, svc);
}

static int document(struct co_ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->d);
	yaml_node_t *svcs = map_get(c, root, "services");
	int e = 0;

	if (!svcs || svcs->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = svcs->data.mapping.pairs.start;
	     e == 0 && p < svcs->data.mapping.pairs.top; p++) {
		yaml_node_t *v = node(c, p->value);
		c->service = scalar(node(c, p->key), NULL);
		if (c->service && v && v->type == YAML_MAPPING_NODE)
			e = service(c, v);
	}
	return e;
}

int scan_compose(struct scan_result *r, const char *file, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_document_t d;
	struct co_ctx c = { .r = r, .file = file, .d = &d };
	int e = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (e == 0) {
		if (!yaml_parser_load(&p, &d)) {
			e = p.error == YAML_MEMORY_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
		if (!yaml_document_get_root_node(&d)) {
			yaml_document_delete(&d);
			break;
		}
		e = document(&c);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	return e;
}
