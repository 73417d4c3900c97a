/* SPDX-License-Identifier: MIT */
/* The JSON reader's shared helpers: locations ("subsystems[0].attr.serial") and typed getters
 * that report errors at that location. */
#ifndef NVRING_CONFIG_JSON_INT_H
#define NVRING_CONFIG_JSON_INT_H

#include "cfg_int.h"

#include <json-c/json.h>

struct jctx {
	const char *name; /* file name for messages, or NULL (single items: the location only) */
	char *err;
	size_t errlen;
};

#define JPATH 256
#define CFG_MAX_KEYS 24 /* keys of the "nvring" object, with the NULL */

int jerr(struct jctx *j, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* buf = base + "." + key, or base + "[i]"; cut at JPATH (a location only names things). */
const char *jkey(char buf[JPATH], const char *base, const char *key);
const char *jidx(char buf[JPATH], const char *base, size_t i);
/* Every key of o must be in allowed (NULL-terminated): a typo must not be silently ignored. */
int j_keys(struct jctx *j, json_object *o, const char *where, const char *const *allowed);
int j_type(struct jctx *j, json_object *v, json_type t, const char *where);
/* o[key] if present (and not null); *out NULL if absent. */
int j_get(struct jctx *j, json_object *o, const char *key, json_type t, const char *where,
	  bool required, json_object **out);
/* o[key] of any type if present and not null. */
json_object *j_member(json_object *o, const char *key);
/* nvmetcli saves most attributes as strings ("1", "4420"): integers and numeric strings. */
int j_uint(struct jctx *j, json_object *v, const char *where, uint64_t min, uint64_t max, uint64_t *out);
int j_bool(struct jctx *j, json_object *v, const char *where, bool *out);
/* An optional member that must be false: features nvring does not have. */
int j_unsupported(struct jctx *j, json_object *o, const char *key, const char *where, const char *what);
int j_ascii(struct jctx *j, json_object *o, const char *key, const char *where, char *dst, size_t size);
int j_nqn(struct jctx *j, json_object *v, const char *where, const char **out);

/* The readers of one item each; cfg is read for references only. */
int j_ns(struct jctx *j, json_object *o, const char *where, struct cfg_ns *ns, bool nsid_required);
int j_subsys(struct jctx *j, json_object *o, const char *where, const struct nvr_config *cfg,
	     struct cfg_subsys *s);
int j_host(struct jctx *j, json_object *o, const char *where, struct cfg_host *h);
int j_port(struct jctx *j, json_object *o, const char *where, const struct nvr_config *cfg,
	   struct cfg_port *p);

#endif
