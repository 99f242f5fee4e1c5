/* error.c -- see error.h. */
#include "util/error.h"

#include <stdio.h>
#include <string.h>

cp_result cp_error_vsetf(cp_error *err, cp_result code, const char *fmt, va_list ap) {
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

cp_result cp_error_setf(cp_error *err, cp_result code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cp_error_vsetf(err, code, fmt, ap);
    va_end(ap);
    return code;
}
