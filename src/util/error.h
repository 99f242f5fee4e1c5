/* error.h -- filling a cp_error (clickpath/clickpath.h) with a message. */
#ifndef CLICKPATH_ERROR_H
#define CLICKPATH_ERROR_H

#include <stdarg.h>

#include "clickpath/clickpath.h"

/* Clears *err (when not NULL), sets its code and a printf-style message;
 * returns code, so that `return cp_error_setf(err, CP_EIO, ...);` reads. */
cp_result cp_error_setf(cp_error *err, cp_result code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cp_result cp_error_vsetf(cp_error *err, cp_result code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
