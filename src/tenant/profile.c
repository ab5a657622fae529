/* profile.c: the compatibility profiles a tenant may turn on, by name and
 * bit, and the settings a profile changes the defaults of. Their settings
 * are validated in admin/tenant_compat.c; what a profile does at run time
 * lives in compat/. */
#include "tenant.h"

#include <string.h>

struct profile {
	const char *name;
	unsigned bit;
};

static const struct profile profiles[] = {
	{"frappe", TS_COMPAT_FRAPPE},
	{"activity", TS_COMPAT_ACTIVITY},
	{"integrations", TS_COMPAT_INTEGRATIONS},
};

unsigned ts_compat_bit(const char *name)
{
	size_t i;

	for (i = 0; name && i < TS_ARRAY_LEN(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return profiles[i].bit;
	return 0;
}

unsigned ts_compat_bits(const json_t *compat)
{
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < json_array_size(compat); i++)
		bits |= ts_compat_bit(json_string_value(json_array_get(compat, i)));
	return bits;
}

int64_t ts_compat_default_access_ttl(const json_t *cfg)
{
	if (ts_compat_bits(json_object_get(cfg, "compat")) & TS_COMPAT_FRAPPE)
		return TS_COMPAT_FRAPPE_ACCESS_TTL;
	return TS_DEFAULT_ACCESS_TTL;
}
