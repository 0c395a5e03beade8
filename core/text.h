/* Text from the other side (agents' names, BYE reasons, ERROR messages,
 * bytes a decoder quotes) made safe to print and to send: one function
 * that turns it into valid, printable UTF-8, so that no peer can write
 * escape sequences or forged lines to the operator's terminal, or make
 * our ERROR messages invalid UTF-8. */
#ifndef RECARENA_TEXT_H
#define RECARENA_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copies src into dst (dst_size bytes, at least 1) as valid UTF-8 with
 * every control character (C0, DEL, C1, U+2028/9) and every byte that is
 * not part of a valid UTF-8 sequence written as the four characters \xNN
 * (each byte of the sequence), and a backslash as \\. Printable ASCII
 * and valid multi-byte characters are kept. The result is cut, at a
 * character boundary, to fit dst. Returns dst. */
char *text_escape(char *dst, size_t dst_size, const char *src);

/* Bytes of the longest prefix of the NUL-terminated s that is made of
 * whole valid UTF-8 characters and is at most max bytes long: a cut that
 * never splits a character. *valid (may be NULL) is false when s holds a
 * byte sequence that is not valid UTF-8 (the prefix then stops before it,
 * or at max, whichever comes first), true otherwise. */
size_t text_utf8_prefix(const char *s, size_t max, bool *valid);

#endif
