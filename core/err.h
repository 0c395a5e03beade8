/* One set of error codes for all of recarena's library code, with one
 * strerror. Functions that act return 0 or one of these negative codes
 * (CONVENTIONS.md §4); a message with the details (file, line, key,
 * errno) goes to the caller's err buffer where the function takes one.
 *
 * Codes -1 to -99 are the wire's: they travel in ERROR.code and their
 * numbers are fixed by proto/protocol.h (PROTO_E*, the same values, with
 * the "bump the major version" warning). Codes from -100 down are never
 * sent: they are the library's own. Never remap one code to another on
 * the way up: pass it on, so the cause reaches the operator.
 *
 *     int rc = scenario_load(...);
 *     if (rc != 0)
 *         fprintf(stderr, "%s (%s)\n", err, err_str(rc));
 */
#ifndef RECARENA_CORE_ERR_H
#define RECARENA_CORE_ERR_H

/* X(name, value, text): every code, one row each. */
#define ERR_LIST(X)                                                                                \
    X(ERR_ENOMEM, -1, "out of memory")                                                             \
    X(ERR_EMALFORMED, -2, "malformed message")                                                     \
    X(ERR_ETOOBIG, -3, "message too big")                                                          \
    X(ERR_EDEPTH, -4, "message nested too deep")                                                   \
    X(ERR_EENVELOPE, -5, "bad message envelope")                                                   \
    X(ERR_EVERSION, -6, "protocol major version mismatch")                                         \
    X(ERR_ETYPE, -7, "unknown message type")                                                       \
    X(ERR_EFIELD, -8, "bad message field")                                                         \
    X(ERR_ENONFINITE, -9, "non-finite number")                                                     \
    X(ERR_EINVAL, -10, "invalid argument")                                                         \
    X(ERR_ESTATE, -11, "not expected in this state")                                               \
    X(ERR_EDEADLINE, -12, "deadline missed")                                                       \
    X(ERR_EACTION, -13, "invalid action")                                                          \
    X(ERR_EAUTH, -14, "not authorized")                                                            \
    X(ERR_EFULL, -15, "no free slot")                                                              \
    X(ERR_EIO, -100, "input/output error")                                                         \
    X(ERR_ESYNTAX, -101, "syntax error")                                                           \
    X(ERR_ERANGE, -102, "value out of range")                                                      \
    X(ERR_EINTR, -103, "interrupted")                                                              \
    X(ERR_EAGENT, -104, "agent process failed")                                                    \
    X(ERR_EITEM, -105, "unknown or retired item")                                                  \
    X(ERR_EDUP, -106, "duplicate item")                                                            \
    X(ERR_EMISSED, -107, "request left without a slate")                                           \
    X(ERR_EFORMAT, -108, "not a file of the expected format")                                      \
    X(ERR_ESHAPE, -109, "shapes do not match")                                                     \
    X(ERR_ETRUNC, -110, "file truncated")                                                          \
    X(ERR_ECORRUPT, -111, "file corrupt")                                                          \
    X(ERR_ELIMIT, -112, "over a built-in limit")                                                   \
    X(ERR_EDISPLAY, -113, "display or drawing error")

#define ERR_ENUM_ROW(name, value, text) name = (value),
typedef enum err_code { ERR_OK = 0, ERR_LIST(ERR_ENUM_ROW) } err_code_t;
#undef ERR_ENUM_ROW

/* Static text for a code above; "success" for 0, "unknown error" for
 * anything else. Never NULL. */
const char *err_str(int code);

/* The code's name ("ERR_EIO"), for logs and tests; NULL if unknown. */
const char *err_name(int code);

#endif
