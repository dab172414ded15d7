#ifndef TALLY_CLMDB_SHIM_H
#define TALLY_CLMDB_SHIM_H
#include <lmdb.h>
#endif
