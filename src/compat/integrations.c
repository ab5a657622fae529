/* integrations.c: the "integrations" profile's routes. */
#include "compat.h"

const struct ts_compat_table ts_compat_integrations = {NULL, 0};
