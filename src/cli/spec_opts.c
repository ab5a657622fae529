/* spec_opts.c: command-line options into the members of a JSON spec,
 * which src/admin then validates like any other spec. */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Collects every value of a repeated option into a JSON array. */
json_t *ts_cli_opt_array(const struct ts_opts *o, const char *name)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < o->nopt; i++)
		if (strcmp(o->opt[i].name, name) == 0 && o->opt[i].value)
			json_array_append_new(a, json_string(o->opt[i].value));
	return a;
}

bool ts_cli_set_int(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	const char *v = ts_opts_get(o, opt);
	char *end;
	long long n;

	if (v == NULL)
		return true;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end) {
		ts_cli_error("--%s must be a whole number", opt);
		return false;
	}
	json_object_set_new(spec, key, json_integer(n));
	return true;
}

void ts_cli_set_str(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	const char *v = ts_opts_get(o, opt);

	if (v)
		json_object_set_new(spec, key, json_string(v));
}

void ts_cli_set_list(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	json_t *a = ts_cli_opt_array(o, opt);

	if (json_array_size(a))
		json_object_set(spec, key, a);
	json_decref(a);
}

/* A whole number as one, anything else as text for the validation. */
static void set_number(json_t *spec, const char *v, const char *key)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (v[0] != '\0' && *end == '\0' && errno == 0)
		json_object_set_new(spec, key, json_integer((json_int_t)n));
	else
		json_object_set_new(spec, key, json_string(v));
}

static bool set_on_off(json_t *spec, const char *v, const struct ts_cli_spec_opt *t)
{
	if (strcmp(v, "on") == 0) {
		json_object_set_new(spec, t->key, json_true());
		return true;
	}
	if (strcmp(v, "off") == 0) {
		json_object_del(spec, t->key);
		return true;
	}
	ts_cli_error("--%s takes on or off", t->opt);
	return false;
}

bool ts_cli_spec_from_opts(json_t *spec, const struct ts_opts *o,
			   const struct ts_cli_spec_opt *table, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ts_cli_spec_opt *t = &table[i];
		const char *v = ts_opts_get(o, t->opt);
		bool ok = true;

		switch (t->kind) {
		case TS_CLI_SPEC_STR: ts_cli_set_str(spec, o, t->opt, t->key); break;
		case TS_CLI_SPEC_LIST: ts_cli_set_list(spec, o, t->opt, t->key); break;
		case TS_CLI_SPEC_INT: ok = ts_cli_set_int(spec, o, t->opt, t->key); break;
		case TS_CLI_SPEC_NUMBER:
			if (v)
				set_number(spec, v, t->key);
			break;
		case TS_CLI_SPEC_TRUE:
			if (ts_opts_has(o, t->opt))
				json_object_set_new(spec, t->key, json_true());
			break;
		case TS_CLI_SPEC_DEL:
			if (ts_opts_has(o, t->opt))
				json_object_del(spec, t->key);
			break;
		case TS_CLI_SPEC_ON_OFF: ok = v == NULL || set_on_off(spec, v, t); break;
		case TS_CLI_SPEC_FN: ok = t->fn(spec, o); break;
		}
		if (!ok)
			return false;
	}
	return true;
}
