/* SPDX-License-Identifier: MIT */
/*
 * Framing: a connection carries JSON values back to back (whitespace between them allowed),
 * each one a request or a batch. json_tokener parses them incrementally, so a request may
 * arrive in any number of pieces and several may arrive in one read. Each response is one line.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_priv.h"

#define RPC_MAX_DEPTH 32 /* nesting of one request */

int rpc_buf_append(struct rpc_buf *b, const char *data, size_t len)
{
	if (b->off == b->len) {
		b->off = b->len = 0;
	} else if (b->off > b->cap / 2) { /* reuse the sent front instead of growing */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap - b->len < len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void rpc_buf_free(struct rpc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int rpc_buf_put_json(struct rpc_buf *b, json_object *v)
{
	size_t len;
	const char *s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int ret = s ? rpc_buf_append(b, s, len) : -ENOMEM;

	if (!ret)
		ret = rpc_buf_append(b, "\n", 1);
	json_object_put(v);
	return ret;
}

int rpc_stream_init(struct rpc_stream *s, const struct rpc_registry *reg, size_t max_request)
{
	memset(s, 0, sizeof(*s));
	s->tok = json_tokener_new_ex(RPC_MAX_DEPTH);
	if (!s->tok)
		return -ENOMEM;
	/* STRICT alone would refuse a second value after the first in the same buffer. */
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
				       JSON_TOKENER_VALIDATE_UTF8);
	s->reg = reg;
	s->max_request = max_request;
	return 0;
}

void rpc_stream_fini(struct rpc_stream *s)
{
	if (s->tok)
		json_tokener_free(s->tok);
	s->tok = NULL;
}

/* json-c accepts NaN and Infinity (and 1e400); JSON has neither. */
static bool rpc_all_finite(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		return isfinite(json_object_get_double(v));
	case json_type_array:
		for (size_t i = 0, n = json_object_array_length(v); i < n; i++)
			if (!rpc_all_finite(json_object_array_get_idx(v, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(v, k, m) {
			(void)k;
			if (!rpc_all_finite(m))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

static int rpc_stream_fatal(struct rpc_buf *out, int code, const char *msg)
{
	int ret = rpc_buf_put_json(out, rpc_error_response(code, msg));

	return ret ? ret : RPC_STREAM_CLOSE;
}

static bool rpc_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int rpc_stream_feed(struct rpc_stream *s, const char *buf, size_t len, size_t *used,
		    struct rpc_buf *out, size_t out_limit)
{
	char msg[RPC_MSG_MAX];
	size_t off = 0;
	int ret = RPC_STREAM_OK;

	while (off < len) {
		enum json_tokener_error jerr;
		json_object *v, *resp;
		size_t n, end;

		if (!s->in_value) {
			if (rpc_buf_pending(out) >= out_limit)
				break; /* backpressure: answer more once the client read these */
			while (off < len && rpc_is_ws(buf[off]))
				off++;
			if (off == len)
				break;
			s->in_value = true;
			s->value_len = 0;
			s->values_started++;
		}
		if (s->value_len >= s->max_request) {
			snprintf(msg, sizeof(msg), "invalid request: larger than %zu bytes", s->max_request);
			ret = rpc_stream_fatal(out, RPC_ERR_INVALID_REQUEST, msg);
			break;
		}
		n = len - off;
		if (n > s->max_request - s->value_len)
			n = s->max_request - s->value_len;
		if (n > INT_MAX)
			n = INT_MAX;
		v = json_tokener_parse_ex(s->tok, buf + off, (int)n);
		jerr = json_tokener_get_error(s->tok);
		if (jerr == json_tokener_continue) {
			off += n;
			s->value_len += n;
			continue;
		}
		end = json_tokener_get_parse_end(s->tok);
		if (jerr != json_tokener_success) {
			snprintf(msg, sizeof(msg), "parse error at byte %zu: %s", s->value_len + end,
				 json_tokener_error_desc(jerr));
			ret = rpc_stream_fatal(out, RPC_ERR_PARSE, msg);
			break;
		}
		off += end;
		s->value_len += end;
		s->in_value = false;
		json_tokener_reset(s->tok);
		if (!rpc_all_finite(v)) {
			json_object_put(v);
			ret = rpc_stream_fatal(out, RPC_ERR_PARSE, "parse error: NaN and Infinity are not JSON");
			break;
		}
		resp = rpc_dispatch(s->reg, v); /* v is a JSON null (NULL) too: an invalid request */
		json_object_put(v);
		if (resp && (ret = rpc_buf_put_json(out, resp)))
			break;
	}
	*used = off;
	return ret;
}
