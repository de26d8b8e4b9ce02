/* shimctl output: JSON for scripts, an indented "key: value" form for people, and errors. */
#include "shimctl.h"

#include "cleanup.h"
#include "xalloc.h"

#include <stdio.h>
#include <string.h>

void
shimctl_print_json(const ProtobufCMessage *msg)
{
	_cleanup_free_ char *s = pbjson_format(msg, &shimctl_json_out);

	fputs(s, stdout);
}

static bool
is_empty(const yajl_val v)
{
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (YAJL_IS_STRING(v))
		return *v->u.string == '\0';
	if (YAJL_IS_OBJECT(v)) {
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (!is_empty(v->u.object.values[i]))
				return false;
		}
		return true;
	}
	if (YAJL_IS_ARRAY(v))
		return v->u.array.len == 0;
	return false;
}

static void
print_scalar(const yajl_val v)
{
	if (YAJL_IS_STRING(v))
		fputs(v->u.string, stdout);
	else if (YAJL_IS_NUMBER(v))
		fputs(v->u.number.r, stdout);
	else
		fputs(YAJL_IS_TRUE(v) ? "true" : "false", stdout);
}

static void print_object(const yajl_val v, int indent, bool first_inline);

static void
print_array(const yajl_val v, int indent)
{
	for (size_t i = 0; i < v->u.array.len; i++) {
		const yajl_val e = v->u.array.values[i];
		printf("%*s- ", indent, "");
		if (YAJL_IS_OBJECT(e)) {
			print_object(e, indent + 2, true);
		} else if (YAJL_IS_ARRAY(e)) {
			putchar('\n');
			print_array(e, indent + 2);
		} else {
			print_scalar(e);
			putchar('\n');
		}
	}
}

/* first_inline: the first line continues a "- " already printed. */
static void
print_object(const yajl_val v, int indent, bool first_inline)
{
	bool first = true;

	for (size_t i = 0; i < v->u.object.len; i++) {
		const yajl_val e = v->u.object.values[i];
		if (is_empty(e))
			continue;
		printf("%*s%s:", first && first_inline ? 0 : indent, "", v->u.object.keys[i]);
		first = false;
		if (YAJL_IS_OBJECT(e)) {
			putchar('\n');
			print_object(e, indent + 2, false);
		} else if (YAJL_IS_ARRAY(e)) {
			putchar('\n');
			print_array(e, indent + 2);
		} else {
			putchar(' ');
			print_scalar(e);
			putchar('\n');
		}
	}
	if (first && first_inline)
		puts("{}");
}

void
shimctl_print_human(const ProtobufCMessage *msg)
{
	static const struct pbjson_opts o = { .flags = PBJSON_EMIT_DEFAULTS,
					      .lookup = shimctl_lookup_type };
	_cleanup_free_ char *s = pbjson_format(msg, &o);
	yajl_val tree = yajl_tree_parse(s, NULL, 0);

	/* pbjson output always parses; fall back to it verbatim all the same. */
	if (tree == NULL || !YAJL_IS_OBJECT(tree)) {
		puts(s);
	} else {
		print_object(tree, 0, false);
	}
	yajl_tree_free(tree);
}

void
shimctl_print(const struct shimctl *ctx, const ProtobufCMessage *msg)
{
	if (ctx->json)
		shimctl_print_json(msg);
	else
		shimctl_print_human(msg);
	fflush(stdout);
}

void
shimctl_print_error(const struct mini_err *err)
{
	_cleanup_free_ char *msg = mini_err_render(err);

	fflush(stdout);
	fprintf(stderr, "shimctl: %s: %s\n", mini_code_name(mini_err_grpc_code(err)), msg);
}
