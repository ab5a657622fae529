/* group_names.c: what a group's name and organization id may be, checked
 * by the group API and by the group object of src/admin/group.c. */
#include "identity.h"

#include "wire/ascii.h"

#include <string.h>

bool ts_group_org_ok(const char *s)
{
	size_t n, i;

	if (s == NULL || (n = strlen(s)) == 0 || n > TS_GROUP_ORG_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (ts_is_ctl_or_space((unsigned char)s[i]))
			return false;
	return true;
}

bool ts_group_name_ok(const char *s)
{
	size_t n, i;

	if (s == NULL || (n = strlen(s)) == 0 || n > TS_GROUP_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (ts_is_ctl((unsigned char)s[i]))
			return false;
	return s[0] != ' ' && s[n - 1] != ' ';
}
