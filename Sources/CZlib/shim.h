#ifndef TALLY_CZLIB_SHIM_H
#define TALLY_CZLIB_SHIM_H
// next_in as a pointer to const: input is never written through.
#define ZLIB_CONST
#include <zlib.h>

// deflateInit and inflateInit are macros (they pass the library's version and
// the stream's size); Swift sees these functions instead.
static inline int tally_deflate_init(z_streamp stream, int level) { return deflateInit(stream, level); }
static inline int tally_inflate_init(z_streamp stream) { return inflateInit(stream); }
#endif
