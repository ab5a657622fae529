/* spec_opts.c: command-line options into the members of a JSON spec,
 * which src/admin then validates like any other spec. */
#include "cmd.h"

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
