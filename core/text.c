/* Printable, valid UTF-8 from untrusted text (text.h). */
#include "core/text.h"

#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not);
 * *cp receives its code point. */
static size_t s_utf8_length(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, *cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, *cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* includes the terminating NUL */
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

static int s_is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

char *text_escape(char *dst, size_t dst_size, const char *src)
{
    size_t out = 0;
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    while (*s) {
        uint32_t cp = 0;
        size_t n = s_utf8_length(s, &cp);
        char piece[20];
        size_t len;
        if (n == 0 || s_is_control(cp)) {
            size_t bytes = n ? n : 1;
            len = 0;
            for (size_t i = 0; i < bytes; i++)
                len += (size_t)snprintf(piece + len, sizeof piece - len, "\\x%02x", s[i]);
            n = bytes;
        } else if (cp == '\\') {
            piece[0] = piece[1] = '\\';
            len = 2;
        } else {
            for (size_t i = 0; i < n; i++)
                piece[i] = (char)s[i];
            len = n;
        }
        if (out + len + 1 > dst_size)
            break;
        for (size_t i = 0; i < len; i++)
            dst[out++] = piece[i];
        s += n;
    }
    dst[out] = '\0';
    return dst;
}

size_t text_utf8_prefix(const char *s, size_t max, bool *valid)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t at = 0;
    bool ok = true;
    while (p[at]) {
        uint32_t cp;
        size_t n = s_utf8_length(p + at, &cp);
        if (n == 0) {
            ok = false;
            break;
        }
        if (at + n > max) {
            for (size_t rest = at + n; p[rest] && ok;) { /* judge the rest, keep the cut */
                size_t m = s_utf8_length(p + rest, &cp);
                ok = m != 0;
                rest += m;
            }
            break;
        }
        at += n;
    }
    if (valid)
        *valid = ok;
    return at;
}
