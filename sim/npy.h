/* NumPy .npy files (format versions 1.0, 2.0 and 3.0): the header
 * parsed from bytes with every field checked, float32 matrices opened
 * memory-mapped (a large catalog's embeddings are never copied whole),
 * and the header a writer puts in front of its data (the run log's .npz
 * members). Format: numpy.org/doc/stable/reference/generated/numpy.lib.format.html */
#ifndef RECARENA_NPY_H
#define RECARENA_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPY_MAX_DIMS 2

/* What a header says. descr is the dtype string ("<f4", "<i4", ...). */
typedef struct npy_header {
    char descr[8];
    int ndim;                    /* 1 or 2 */
    int64_t shape[NPY_MAX_DIMS]; /* shape[1] = 1 when ndim is 1 */
    size_t data_offset;          /* bytes before the data */
} npy_header_t;

/* Parses the header at the start of bytes (size bytes). Returns 0, or
 * ERR_EFORMAT with a message in err naming what is wrong (bad magic,
 * unsupported version, fortran order, a shape of more than two
 * dimensions, ...). Checks that the data the shape declares fits in
 * size for the element size of descr (1, 2, 4 or 8 bytes). */
int npy_parse_header(const uint8_t *bytes, size_t size, npy_header_t *h, char *err, size_t err_len);

/* A read-only memory map of a little-endian float32 matrix (rows, cols);
 * a 1-D array is one column. */
typedef struct npy_matrix {
    const float *data; /* (rows, cols), row-major; borrowed from the map */
    int64_t rows, cols;
    void *map; /* private */
    size_t map_size;
} npy_matrix_t;

/* Maps path. Returns 0, ERR_EIO (cannot open or map, message names the
 * file and errno's text) or ERR_EFORMAT (the header is bad or the dtype
 * is not "<f4"); err always names the file. */
int npy_open_f32(npy_matrix_t *m, const char *path, char *err, size_t err_len);
void npy_close(npy_matrix_t *m); /* accepts a zeroed or closed matrix */

/* The header (version 1.0, padded to a multiple of 64 bytes) of an array
 * of dtype descr and shape (rows) when cols is 0, else (rows, cols).
 * Writes it into out (at least NPY_HEADER_SIZE bytes); returns its length. */
#define NPY_HEADER_SIZE 128
size_t npy_format_header(char *out, const char *descr, int64_t rows, int64_t cols);

#endif
