/* .npy headers and memory-mapped float32 matrices (npy.h). The header is
 * a Python dict literal; only the three keys the format defines are read,
 * each checked, and nothing is allocated from a declared size before the
 * file is known to hold that many bytes. */
#include "sim/npy.h"

#include "core/err.h"
#include "core/parse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* The value text after 'key': in the dict text [p, end), or NULL. */
static const char *s_find_key(const char *p, const char *end, const char *key)
{
    size_t n = strlen(key);
    for (; p + n + 2 < end; p++)
        if ((*p == '\'' || *p == '"') && memcmp(p + 1, key, n) == 0 && p[n + 1] == *p) {
            const char *q = p + n + 2;
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q >= end || *q != ':')
                return NULL;
            q++;
            while (q < end && isspace((unsigned char)*q))
                q++;
            return q;
        }
    return NULL;
}

static int s_element_size(const char *descr)
{
    if (strlen(descr) < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '='))
        return 0;
    int size;
    if (!strchr("fiub", descr[1]) || parse_int(descr + 2, 1, 8, &size) != 0 ||
        (size != 1 && size != 2 && size != 4 && size != 8))
        return 0;
    return size;
}

int npy_parse_header(const uint8_t *bytes, size_t size, npy_header_t *h, char *err, size_t err_len)
{
    memset(h, 0, sizeof *h);
    if (size < 10 || memcmp(bytes, "\x93NUMPY", 6) != 0)
        return s_fail(err, err_len, ERR_EFORMAT, "not a .npy file (no \\x93NUMPY magic)");
    int major = bytes[6];
    size_t len, start;
    if (major == 1) {
        len = (size_t)bytes[8] | (size_t)bytes[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12)
            return s_fail(err, err_len, ERR_EFORMAT, "header truncated");
        len = (size_t)bytes[8] | (size_t)bytes[9] << 8 | (size_t)bytes[10] << 16 |
              (size_t)bytes[11] << 24;
        start = 12;
    } else {
        return s_fail(err, err_len, ERR_EFORMAT, ".npy format version %d.%d is not supported",
                      major, bytes[7]);
    }
    if (len > size - start)
        return s_fail(err, err_len, ERR_EFORMAT, "header of %zu bytes runs past the end", len);
    const char *text = (const char *)bytes + start, *end = text + len;

    const char *v = s_find_key(text, end, "descr");
    if (!v || (*v != '\'' && *v != '"'))
        return s_fail(err, err_len, ERR_EFORMAT, "header has no 'descr'");
    const char *close = memchr(v + 1, *v, (size_t)(end - v - 1));
    if (!close || close - v - 1 >= (ptrdiff_t)sizeof h->descr)
        return s_fail(err, err_len, ERR_EFORMAT, "header's 'descr' is not a simple dtype");
    memcpy(h->descr, v + 1, (size_t)(close - v - 1));
    int elem = s_element_size(h->descr);
    if (!elem)
        return s_fail(err, err_len, ERR_EFORMAT, "dtype '%s' is not a little-endian number",
                      h->descr);

    v = s_find_key(text, end, "fortran_order");
    if (!v)
        return s_fail(err, err_len, ERR_EFORMAT, "header has no 'fortran_order'");
    if ((size_t)(end - v) >= 4 && memcmp(v, "True", 4) == 0)
        return s_fail(err, err_len, ERR_EFORMAT,
                      "array is in Fortran order; save it C-ordered (numpy.ascontiguousarray)");
    if ((size_t)(end - v) < 5 || memcmp(v, "False", 5) != 0)
        return s_fail(err, err_len, ERR_EFORMAT, "header's 'fortran_order' is not True or False");

    v = s_find_key(text, end, "shape");
    if (!v || *v != '(')
        return s_fail(err, err_len, ERR_EFORMAT, "header has no 'shape' tuple");
    v++;
    h->shape[1] = 1;
    for (;;) {
        while (v < end && isspace((unsigned char)*v))
            v++;
        if (v < end && *v == ')')
            break;
        if (h->ndim == NPY_MAX_DIMS)
            return s_fail(err, err_len, ERR_EFORMAT, "shape has more than %d dimensions",
                          NPY_MAX_DIMS);
        if (v >= end || !isdigit((unsigned char)*v))
            return s_fail(err, err_len, ERR_EFORMAT, "bad 'shape' in header");
        int64_t x = 0;
        while (v < end && isdigit((unsigned char)*v)) {
            if (x > (INT64_MAX - 9) / 10)
                return s_fail(err, err_len, ERR_EFORMAT, "shape too large");
            x = x * 10 + (*v++ - '0');
        }
        h->shape[h->ndim++] = x;
        while (v < end && isspace((unsigned char)*v))
            v++;
        if (v < end && *v == ',')
            v++;
    }
    if (h->ndim == 0)
        return s_fail(err, err_len, ERR_EFORMAT, "shape () is a scalar, not an array");
    h->data_offset = start + len;
    uint64_t need = (uint64_t)elem;
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] != 0 && need > UINT64_MAX / (uint64_t)h->shape[i])
            return s_fail(err, err_len, ERR_EFORMAT, "shape too large");
        need *= (uint64_t)h->shape[i];
    }
    if (need > size - h->data_offset)
        return s_fail(
            err, err_len, ERR_EFORMAT,
            "shape (%" PRId64 ", %" PRId64 ") needs %" PRIu64 " bytes of data, the file has %zu",
            h->shape[0], h->ndim > 1 ? h->shape[1] : (int64_t)1, need, size - h->data_offset);
    return 0;
}

int npy_open_f32(npy_matrix_t *m, const char *path, char *err, size_t err_len)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return s_fail(err, err_len, ERR_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        rc = s_fail(err, err_len, ERR_EFORMAT, "%s: empty or unreadable file", path);
        goto fail_close;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = s_fail(err, err_len, ERR_EIO, "%s: cannot map: %s", path, strerror(errno));
        goto fail_close;
    }
    npy_header_t h;
    char why[256];
    rc = npy_parse_header(map, (size_t)st.st_size, &h, why, sizeof why);
    if (rc == 0 && strcmp(h.descr, "<f4") != 0)
        rc = s_fail(why, sizeof why, ERR_EFORMAT,
                    "dtype is '%s', expected float32 ('<f4'): save with .astype(numpy.float32)",
                    h.descr);
    if (rc == 0 && h.data_offset % 4 != 0)
        rc = s_fail(why, sizeof why, ERR_EFORMAT, "data is not 4-byte aligned");
    if (rc != 0) {
        munmap(map, (size_t)st.st_size);
        rc = s_fail(err, err_len, rc, "%s: %s", path, why);
        goto fail_close;
    }
    m->map = map;
    m->map_size = (size_t)st.st_size;
    m->data = (const float *)((const char *)map + h.data_offset);
    m->rows = h.shape[0];
    m->cols = h.shape[1];
fail_close:
    close(fd);
    return rc;
}

void npy_close(npy_matrix_t *m)
{
    if (m->map)
        munmap(m->map, m->map_size);
    memset(m, 0, sizeof *m);
}

size_t npy_format_header(char *out, const char *descr, int64_t rows, int64_t cols)
{
    char dict[NPY_HEADER_SIZE];
    int n;
    if (cols > 0)
        n = snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRId64 ", %" PRId64
                     "), }",
                     descr, rows, cols);
    else
        n = snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRId64 ",), }", descr,
                     rows);
    size_t total = 10 + (size_t)n + 1; /* magic, version, length, dict, '\n' */
    size_t padded = (total + 63) / 64 * 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    size_t len = padded - 10;
    out[8] = (char)(len & 0xff);
    out[9] = (char)(len >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', padded - total);
    out[padded - 1] = '\n';
    return padded;
}
