/* Unit tests for pbjson: every field shape of testdata/pbjson_test.proto, round trips, the
 * well-known types, and error messages. */
#include "pbjson.h"

#include "cleanup.h"
#include "err.h"
#include "tap.h"

#include "pbjson_test.pb-c.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ProtobufCMessageDescriptor *
lookup(const char *name)
{
	static const ProtobufCMessageDescriptor *const types[] = {
		&pbjsontest__inner__descriptor,
		&pbjsontest__all__descriptor,
		&pbjsontest__legacy__descriptor,
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	}
	return NULL;
}

static const struct pbjson_opts opts = { .lookup = lookup };

static Pbjsontest__All *
parse_all(const char *json, struct mini_err **err)
{
	return (Pbjsontest__All *)pbjson_parse(&pbjsontest__all__descriptor, json, strlen(json),
					       &opts, err);
}

/* Parses json as All and returns the error text (NULL when it parsed). Caller owns it. */
static char *
parse_error(const char *json)
{
	_cleanup_err_ struct mini_err *err = NULL;
	Pbjsontest__All *m = parse_all(json, &err);

	if (m != NULL) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	return mini_err_render(err);
}

static void
like(const char *got, const char *needle, const char *what)
{
	ok(got && strstr(got, needle), "%s", what);
	if (!got || !strstr(got, needle))
		printf("#   got \"%s\"\n#   want it to contain \"%s\"\n", got ? got : "(null)",
		       needle);
}

static bool
same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a);
	size_t lb = protobuf_c_message_get_packed_size(b);
	_cleanup_free_ uint8_t *ba = malloc(la + 1), *bb = malloc(lb + 1);

	protobuf_c_message_pack(a, ba);
	protobuf_c_message_pack(b, bb);
	return la == lb && memcmp(ba, bb, la) == 0;
}

static const char full_json[] =
	"{\"i32\":-5,\"s32\":-6,\"sf32\":-7,\"u32\":4294967295,\"f32\":9,"
	"\"i64\":-9223372036854775808,\"s64\":\"-42\",\"sf64\":1e3,"
	"\"u64\":18446744073709551615,\"f64\":\"12345678901234\","
	"\"fl\":0.1,\"db\":\"Infinity\",\"flag\":true,\"text\":\"h\\u00e9\\\"\","
	"\"blob\":\"AAEC/w==\","
	"\"color\":\"GREEN\",\"inner\":{\"name\":\"in\",\"n\":1},\"nums\":[1,\"2\",3],"
	"\"words\":[\"a\",\"\"],\"inners\":[{},{\"n\":2}],\"colors\":[\"RED\",2,7],"
	"\"blobs\":[\"\",\"_-8\"],\"labels\":{\"k\":\"v\",\"e\":\"\"},"
	"\"byId\":{\"7\":{\"name\":\"seven\"}},\"when\":\"2024-02-29T12:30:00.25+02:00\","
	"\"extra\":{\"type_url\":\"pbjsontest.Inner\",\"value\":{\"name\":\"any\"}},"
	"\"extras\":[{\"typeUrl\":\"x.y/pbjsontest.Inner\",\"value\":{\"n\":3}},"
	"{\"type_url\":\"unknown.Type\",\"value\":\"AQI=\"},"
	"{\"type_url\":\"types.containerd.io/opencontainers/runtime-spec/1/Process\","
	"\"value\":{\"args\":[\"sh\"],\"terminal\":false,\"n\":1.50}}],"
	"\"legacy\":{\"req\":1,\"maybe_text\":\"t\",\"maybeFlag\":false},"
	"\"choiceInner\":{\"n\":4}}";

static const char spec_json[] = "{\"args\":[\"sh\"],\"terminal\":false,\"n\":1.50}";

static void
test_parse_values(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	Pbjsontest__All *m = parse_all(full_json, &err);
	Pbjsontest__Inner *in;

	ok(m != NULL, "full message parses");
	if (m == NULL) {
		_cleanup_free_ char *s = mini_err_render(err);
		printf("#   error: %s\n", s);
		return;
	}
	is_int(m->i32, -5, "int32");
	is_int(m->s32, -6, "sint32");
	is_int(m->sf32, -7, "sfixed32");
	ok(m->u32 == 4294967295u, "uint32 max");
	ok(m->i64 == INT64_MIN, "int64 min");
	is_int(m->s64, -42, "sint64 from a string");
	is_int(m->sf64, 1000, "sfixed64 from an integral exponent");
	ok(m->u64 == UINT64_MAX, "uint64 max");
	ok(m->f64 == 12345678901234ull, "fixed64 from a string");
	ok(m->fl == 0.1f, "float");
	ok(isinf(m->db) && m->db > 0, "double Infinity");
	ok(m->flag, "bool");
	is_str(m->text, "h\xc3\xa9\"", "string with escapes");
	ok(m->blob.len == 4 && m->blob.data[3] == 0xff, "bytes from base64");
	is_int(m->color, PBJSONTEST__COLOR__GREEN, "enum by name");
	ok(m->inner && strcmp(m->inner->name, "in") == 0 && m->inner->n == 1, "nested message");
	ok(m->n_nums == 3 && m->nums[1] == 2, "repeated uint64");
	ok(m->n_words == 2 && strcmp(m->words[1], "") == 0, "repeated string");
	ok(m->n_inners == 2 && m->inners[1]->n == 2, "repeated message");
	ok(m->n_colors == 3 && m->colors[1] == 2 && m->colors[2] == 7, "repeated enum, open");
	ok(m->n_blobs == 2 && m->blobs[1].len == 2 && m->blobs[1].data[0] == 0xff,
	   "url-safe base64 without padding");
	ok(m->n_labels == 2 && strcmp(m->labels[0]->key, "k") == 0, "map<string,string>");
	ok(m->n_by_id == 1 && m->by_id[0]->key == 7 &&
		   strcmp(m->by_id[0]->value->name, "seven") == 0,
	   "map<uint32,Inner> by camelCase name");
	ok(m->when && m->when->seconds == 1709202600 && m->when->nanos == 250000000,
	   "timestamp with offset");
	ok(m->extra && strcmp(m->extra->type_url, "pbjsontest.Inner") == 0, "any type_url");
	in = m->extra ? pbjsontest__inner__unpack(NULL, m->extra->value.len, m->extra->value.data)
		      : NULL;
	ok(in && strcmp(in->name, "any") == 0, "any value packed from JSON");
	if (in)
		pbjsontest__inner__free_unpacked(in, NULL);
	ok(m->n_extras == 3 && m->extras[1]->value.len == 2, "any with base64 value");
	ok(m->n_extras == 3 && m->extras[2]->value.len == strlen(spec_json) &&
		   memcmp(m->extras[2]->value.data, spec_json, strlen(spec_json)) == 0,
	   "runtime-spec any holds compact JSON");
	ok(m->legacy && m->legacy->req == 1 && m->legacy->has_maybe_flag &&
		   !m->legacy->maybe_flag && !m->legacy->has_maybe && m->legacy->maybe == 7,
	   "proto2 presence and defaults");
	is_int(m->choice_case, PBJSONTEST__ALL__CHOICE_CHOICE_INNER, "oneof case");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void
test_round_trip(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	Pbjsontest__All *m = parse_all(full_json, &err), *m2;

	if (m == NULL) {
		ok(0, "round trip: parse");
		return;
	}
	out = pbjson_format(&m->base, &opts);
	m2 = parse_all(out, &err);
	ok(m2 != NULL, "formatted output parses again");
	if (m2 == NULL) {
		printf("#   output: %s\n", out);
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return;
	}
	ok(same_wire(&m->base, &m2->base), "round trip keeps the wire encoding");
	out2 = pbjson_format(&m2->base, &opts);
	is_str(out2, out, "second format is identical");
	like(out, "\"i64\":-9223372036854775808,", "int64 written as a number");
	like(out, "\"u64\":18446744073709551615,", "uint64 above 2^63 written as a number");
	like(out, "\"fl\":0.1,", "float written in its shortest form");
	like(out, "\"db\":\"Infinity\"", "infinity written as a string");
	like(out, "\"color\":\"GREEN\"", "enum written by name");
	like(out, "\"colors\":[\"RED\",\"GREEN\",7]", "unnamed enum value written as a number");
	like(out, "\"by_id\":{\"7\":{\"name\":\"seven\"}}", "map written as an object, proto name");
	like(out, "\"when\":\"2024-02-29T10:30:00.250Z\"", "timestamp written as RFC 3339 UTC");
	like(out, "\"extra\":{\"type_url\":\"pbjsontest.Inner\",\"value\":{\"name\":\"any\"}}",
	     "known any decoded");
	like(out, "{\"type_url\":\"x.y/pbjsontest.Inner\",\"value\":{\"n\":3}}",
	     "prefixed type url decoded");
	like(out, "{\"type_url\":\"unknown.Type\",\"value\":\"AQI=\"}", "unknown any as base64");
	like(out, "\"value\":{\"args\":[\"sh\"],\"terminal\":false,\"n\":1.50}}",
	     "runtime-spec any written as JSON");
	like(out, "\"legacy\":{\"req\":1,\"maybe_text\":\"t\",\"maybe_flag\":false}",
	     "proto2: only present fields");
	like(out, "\"choice_inner\":{\"n\":4}", "oneof member");
	ok(strstr(out, "choice_text") == NULL, "other oneof members not written");
	protobuf_c_message_free_unpacked(&m->base, NULL);
	protobuf_c_message_free_unpacked(&m2->base, NULL);
}

static void
test_defaults(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *plain = NULL, *full = NULL, *pretty = NULL;
	struct pbjson_opts emit = { .flags = PBJSON_EMIT_DEFAULTS, .lookup = lookup };
	struct pbjson_opts pp = { .flags = PBJSON_PRETTY };
	ProtobufCMessage *m = pbjson_parse(&pbjsontest__inner__descriptor, " \n\t", 3, NULL, &err);
	Pbjsontest__All *all;

	ok(m != NULL, "blank input is an empty message");
	if (m == NULL)
		return;
	plain = pbjson_format(m, NULL);
	is_str(plain, "{}", "defaults omitted");
	full = pbjson_format(m, &emit);
	is_str(full, "{\"name\":\"\",\"n\":0}", "defaults emitted");
	pretty = pbjson_format(m, &pp);
	is_str(pretty, "{}\n", "pretty output ends with one newline");
	protobuf_c_message_free_unpacked(m, NULL);
	free(pretty);
	all = parse_all("{\"words\":[\"a,{[\\\"\"],\"inner\":{},\"nums\":[]}", &err);
	if (all == NULL) {
		ok(0, "parse for pretty output");
		return;
	}
	pretty = pbjson_format(&all->base, &pp);
	is_str(pretty, "{\n  \"inner\": {},\n  \"words\": [\n    \"a,{[\\\"\"\n  ]\n}\n",
	       "pretty output indents by two, keeps empty objects and strings intact");
	protobuf_c_message_free_unpacked(&all->base, NULL);

	all = parse_all("{\"choice_text\":\"\",\"legacy\":{\"req\":0}}", &err);
	if (all == NULL) {
		ok(0, "parse oneof with default value");
		return;
	}
	free(full);
	full = pbjson_format(&all->base, &emit);
	like(full, "\"inner\":null,", "unset message emitted as null");
	like(full, "\"nums\":[],", "empty repeated emitted");
	like(full, "\"labels\":{},", "empty map emitted");
	like(full, "\"choice_text\":\"\"", "set oneof member with a default value is written");
	like(full, "\"legacy\":{\"req\":0}", "unset proto2 optionals not emitted");
	protobuf_c_message_free_unpacked(&all->base, NULL);
}

static void
test_errors(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "{\"nope\":1}", "unknown field \"nope\" in pbjsontest.All" },
		{ "{\"inner\":{\"x\":1}}", "inner: unknown field \"x\" in pbjsontest.Inner" },
		{ "{\"u32\":4294967296}", "u32: integer 4294967296 out of range" },
		{ "{\"u64\":-1}", "u64: invalid unsigned integer \"-1\"" },
		{ "{\"i32\":1.5}", "i32: invalid integer \"1.5\"" },
		{ "{\"i32\":\"12x\"}", "invalid integer \"12x\"" },
		{ "{\"i64\":\"0x10\"}", "invalid integer \"0x10\"" },
		{ "{\"u32\":\"inf\"}", "invalid unsigned integer \"inf\"" },
		{ "{\"flag\":1}", "flag: expected a boolean, got a number" },
		{ "{\"text\":5}", "text: expected a string, got a number" },
		{ "{\"color\":\"BLUE\"}", "unknown value \"BLUE\" of enum pbjsontest.Color" },
		{ "{\"blob\":\"a$b=\"}", "blob: invalid base64 character at offset 1" },
		{ "{\"nums\":[1,\"x\"]}", "nums: [1]: invalid unsigned integer \"x\"" },
		{ "{\"nums\":3}", "nums: expected an array, got a number" },
		{ "{\"labels\":[]}", "labels: expected an object, got an array" },
		{ "{\"by_id\":{\"x\":{}}}", "by_id: key \"x\": invalid unsigned integer" },
		{ "{\"when\":\"2023-02-29T00:00:00Z\"}", "invalid RFC 3339 timestamp" },
		{ "{\"when\":\"2023-01-01 00:00:00Z\"}", "invalid RFC 3339 timestamp" },
		{ "{\"extra\":{\"type_url\":\"a.B\",\"value\":{}}}",
		  "extra: value: unknown type \"a.B\" in google.protobuf.Any" },
		{ "{\"extra\":{\"value\":\"AA==\"}}", "has a value but no type_url" },
		{ "{\"extra\":{\"type_url\":\"a.B\",\"v\":1}}",
		  "unknown field \"v\" in google.protobuf.Any" },
		{ "{\"choice_text\":\"a\",\"choice_num\":1}",
		  "fields \"choice_text\" and \"choice_num\" of pbjsontest.All are in the same "
		  "oneof" },
		{ "{\"text\":\"a\",\"text\":\"b\"}",
		  "field \"text\" of pbjsontest.All given twice" },
		{ "{\"legacy\":{\"maybe\":true}}", "legacy: maybe: expected an integer" },
		{ "[1]", "expected an object for pbjsontest.All, got an array" },
		{ "{\"i32\":", "invalid JSON: " },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *got = parse_error(cases[i].json);
		like(got, cases[i].want, cases[i].json);
	}
}

static void
test_timestamps(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	char buf[48];
	int64_t s = 1;
	int32_t ns = 1;

	ok(pbjson_timestamp_format(0, 0, buf, sizeof(buf)), "epoch formats");
	is_str(buf, "1970-01-01T00:00:00Z", "epoch");
	ok(pbjson_timestamp_format(-62135596800LL, 0, buf, sizeof(buf)), "go zero time formats");
	is_str(buf, "0001-01-01T00:00:00Z", "go zero time");
	pbjson_timestamp_format(-1, 1, buf, sizeof(buf));
	is_str(buf, "1969-12-31T23:59:59.000000001Z", "negative seconds, 9 digits");
	pbjson_timestamp_format(253402300799LL, 123456000, buf, sizeof(buf));
	is_str(buf, "9999-12-31T23:59:59.123456Z", "max, 6 digits");
	ok(!pbjson_timestamp_format(253402300800LL, 0, buf, sizeof(buf)), "year 10000 refused");
	ok(!pbjson_timestamp_format(0, 1000000000, buf, sizeof(buf)), "nanos >= 1e9 refused");
	is_int(pbjson_timestamp_parse("0001-01-01T00:00:00Z", &s, &ns, &err), 0, "parse zero");
	ok(s == -62135596800LL && ns == 0, "zero time value");
	is_int(pbjson_timestamp_parse("2000-03-01t00:00:00.1-00:30", &s, &ns, &err), 0,
	       "lowercase t and negative offset");
	ok(s == 951870600 && ns == 100000000, "offset applied");
	ok(pbjson_timestamp_parse("2000-01-01T00:00:00.1234567891Z", &s, &ns, &err) < 0,
	   "ten fractional digits refused");
	mini_err_free(err);
	err = NULL;
	ok(pbjson_timestamp_parse("2000-01-01T00:00:60Z", &s, &ns, &err) < 0,
	   "leap second refused");
}

static void
test_timestamp_object(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *out = NULL;
	Pbjsontest__All *m =
		parse_all("{\"when\":{\"seconds\":\"-62135596801\",\"nanos\":5}}", &err);

	ok(m && m->when && m->when->seconds == -62135596801LL, "timestamp accepted as an object");
	if (m == NULL)
		return;
	out = pbjson_format(&m->base, NULL);
	is_str(out, "{\"when\":{\"seconds\":-62135596801,\"nanos\":5}}",
	       "out-of-range timestamp written as an object");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void
test_base64(void)
{
	static const char *const vec[][2] = {
		{ "", "" },	   { "f", "Zg==" },	   { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
	};
	_cleanup_err_ struct mini_err *err = NULL;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		_cleanup_free_ char *enc =
			pbjson_base64_encode((const uint8_t *)vec[i][0], strlen(vec[i][0]));
		_cleanup_free_ uint8_t *dec = NULL;
		size_t n = 99;
		is_str(enc, vec[i][1], "base64 encode \"%s\"", vec[i][0]);
		ok(pbjson_base64_decode(vec[i][1], strlen(vec[i][1]), &dec, &n, &err) == 0 &&
			   n == strlen(vec[i][0]) && (n == 0 || memcmp(dec, vec[i][0], n) == 0),
		   "base64 decode \"%s\"", vec[i][1]);
	}
	{
		_cleanup_free_ uint8_t *dec = NULL;
		size_t n;
		ok(pbjson_base64_decode("Zm9vY", 5, &dec, &n, &err) < 0,
		   "base64 with a dangling character refused");
	}
}

static void
test_any_fallback(void)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *out = NULL;
	/* 0x0a 0xff: a length-delimited field whose length runs past the end. */
	Pbjsontest__All *m = parse_all(
		"{\"extra\":{\"type_url\":\"pbjsontest.Inner\",\"value\":\"Cv8=\"}}", &err);

	if (m == NULL) {
		ok(0, "parse any with undecodable payload");
		return;
	}
	out = pbjson_format(&m->base, &opts);
	is_str(out, "{\"extra\":{\"type_url\":\"pbjsontest.Inner\",\"value\":\"Cv8=\"}}",
	       "undecodable any payload written as base64");
	free(out);
	out = pbjson_format(&m->base, NULL);
	is_str(out, "{\"extra\":{\"type_url\":\"pbjsontest.Inner\",\"value\":\"Cv8=\"}}",
	       "any without a lookup written as base64");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

int
main(void)
{
	test_parse_values();
	test_round_trip();
	test_defaults();
	test_errors();
	test_timestamps();
	test_timestamp_object();
	test_base64();
	test_any_fallback();
	return tap_done();
}
