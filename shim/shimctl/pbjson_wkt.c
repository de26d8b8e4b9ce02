/* pbjson building blocks without message walking: base64, RFC 3339 timestamps, yajl tree output
 * and small descriptor helpers. */
#include "pbjson_internal.h"

#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int
pbjson_err(struct mini_err **err, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	mini_err_setc(err, MINI_E_INVALID, 0, "%s", msg);
	return -EINVAL;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
pbjson_base64_encode(const uint8_t *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
pbjson_base64_decode(const char *s, size_t slen, uint8_t **out, size_t *out_len,
		     struct mini_err **err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint32_t acc = 0;
	size_t i, o = 0, nbits = 0;

	while (slen > 0 && s[slen - 1] == '=')
		slen--;
	if (slen % 4 == 1)
		return pbjson_err(err, "invalid base64: bad length");
	buf = xmalloc(slen * 3 / 4 + 1);
	for (i = 0; i < slen; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return pbjson_err(err, "invalid base64 character at offset %zu", i);
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			buf[o++] = (uint8_t)(acc >> nbits);
		}
	}
	*out_len = o;
	*out = o ? steal_ptr(&buf) : NULL;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithms, which
 * work for any year, unlike timegm on years before 1900 on some libcs). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range RFC 3339 can express. */
#define TS_MIN_SECONDS (-62135596800LL)
#define TS_MAX_SECONDS 253402300799LL

bool
pbjson_timestamp_format(int64_t seconds, int32_t nanos, char *buf, size_t size)
{
	int64_t days, rem, y;
	unsigned m, d;
	int n;

	if (seconds < TS_MIN_SECONDS || seconds > TS_MAX_SECONDS || nanos < 0 ||
	    nanos >= 1000000000)
		return false;
	days = seconds / 86400;
	rem = seconds % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
		     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	/* protojson's choice: 0, 3, 6 or 9 fractional digits, the fewest that are exact. */
	if (nanos % 1000000 == 0 && nanos)
		n += snprintf(buf + n, size - (size_t)n, ".%03d", nanos / 1000000);
	else if (nanos % 1000 == 0 && nanos)
		n += snprintf(buf + n, size - (size_t)n, ".%06d", nanos / 1000);
	else if (nanos)
		n += snprintf(buf + n, size - (size_t)n, ".%09d", nanos);
	snprintf(buf + n, size - (size_t)n, "Z");
	return true;
}

/* Reads exactly n digits at *p. */
static bool
take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool
take_char(const char **p, char a, char b)
{
	if (**p != a && **p != b)
		return false;
	(*p)++;
	return true;
}

static bool
parse_offset(const char **p, int *offset_seconds)
{
	int sign, oh, om;

	if (take_char(p, 'Z', 'z')) {
		*offset_seconds = 0;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!take_digits(p, 2, &oh) || !take_char(p, ':', ':') || !take_digits(p, 2, &om) ||
	    oh > 23 || om > 59)
		return false;
	*offset_seconds = sign * (oh * 3600 + om * 60);
	return true;
}

int
pbjson_timestamp_parse(const char *s, int64_t *seconds, int32_t *nanos, struct mini_err **err)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, off = 0;
	int32_t ns = 0;
	int64_t secs;

	if (!take_digits(&p, 4, &y) || !take_char(&p, '-', '-') || !take_digits(&p, 2, &mo) ||
	    !take_char(&p, '-', '-') || !take_digits(&p, 2, &d) || !take_char(&p, 'T', 't') ||
	    !take_digits(&p, 2, &h) || !take_char(&p, ':', ':') || !take_digits(&p, 2, &mi) ||
	    !take_char(&p, ':', ':') || !take_digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits >= 9)
				goto bad;
			ns = ns * 10 + (*p - '0');
		}
		if (digits == 0)
			goto bad;
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (!parse_offset(&p, &off) || *p != '\0')
		goto bad;
	/* Leap seconds (sec == 60) are not representable in a Timestamp, as in protojson. */
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 59)
		goto bad;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		goto bad;
	secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
	       off;
	if (secs < TS_MIN_SECONDS || secs > TS_MAX_SECONDS)
		goto bad;
	*seconds = secs;
	*nanos = ns;
	return 0;
bad:
	return pbjson_err(err, "invalid RFC 3339 timestamp \"%s\"", s);
}

void
pbjson_gen_tree(yajl_gen g, const yajl_val v)
{
	size_t i;

	if (v == NULL || YAJL_IS_NULL(v)) {
		yajl_gen_null(g);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_NUMBER(v)) {
		/* The raw text keeps integers beyond 2^63 and exact decimals as they were. */
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_STRING(v)) {
		yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			const char *k = v->u.object.keys[i];
			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			pbjson_gen_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			pbjson_gen_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	}
}

size_t
pbjson_type_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

const ProtobufCMessageDescriptor *
pbjson_resolve_any(const struct pbjson_opts *opts, const char *type_url)
{
	const ProtobufCMessageDescriptor *d;
	const char *slash;

	if (opts == NULL || opts->lookup == NULL || type_url == NULL || *type_url == '\0')
		return NULL;
	d = opts->lookup(type_url);
	if (d != NULL)
		return d;
	slash = strrchr(type_url, '/');
	return slash ? opts->lookup(slash + 1) : NULL;
}
