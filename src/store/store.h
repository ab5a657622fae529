/* store.h: the whole storage contract, family by family: store_core.h
 * (the handle, opening, the generation, write batches and the conventions
 * of every operation), store_config.h, store_people.h, store_tokens.h,
 * store_state.h and store_vault.h. A file that needs one family may
 * include its header alone. */
#ifndef TS_STORE_H
#define TS_STORE_H

#include "store_core.h"

#include "store_config.h"
#include "store_people.h"
#include "store_state.h"
#include "store_tokens.h"
#include "store_vault.h"

#endif
