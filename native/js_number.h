/* Numbers spelled as JavaScript spells them (String(v)): the text writers made in C must give the
 * bytes the JavaScript writers give. */
#ifndef FS_JS_NUMBER_H
#define FS_JS_NUMBER_H

#include <stddef.h>

#define FS_JS_NUMBER_MAX 32         /* the longest spelling ("-1.2345678901234567e-308") and a NUL */

#ifdef __cplusplus
extern "C" {
#endif
/* String(v): the shortest digits that read back as v (ECMA-262 Number::toString); returns the
 * length written to out (no NUL). */
size_t fs_js_number(double v, char out[FS_JS_NUMBER_MAX]);
#ifdef __cplusplus
}
#endif

#endif
