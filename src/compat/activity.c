/* activity.c: the "activity" profile's routes. */
#include "compat.h"

const struct ts_compat_table ts_compat_activity = {NULL, 0};
