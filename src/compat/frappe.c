/* frappe.c: the "frappe" profile's routes. */
#include "compat.h"

const struct ts_compat_table ts_compat_frappe = {NULL, 0};
