/* The one table of error codes (err.h). */
#include "core/err.h"

#include <stddef.h>

typedef struct s_err_row {
    int code;
    const char *name;
    const char *text;
} s_err_row_t;

#define S_ROW(name, value, text) {(value), #name, (text)},
static const s_err_row_t s_rows[] = {ERR_LIST(S_ROW)};
#undef S_ROW

static const s_err_row_t *s_find(int code)
{
    for (size_t i = 0; i < sizeof s_rows / sizeof s_rows[0]; i++)
        if (s_rows[i].code == code)
            return &s_rows[i];
    return NULL;
}

const char *err_str(int code)
{
    if (code == 0)
        return "success";
    const s_err_row_t *row = s_find(code);
    return row ? row->text : "unknown error";
}

const char *err_name(int code)
{
    const s_err_row_t *row = s_find(code);
    return row ? row->name : NULL;
}
