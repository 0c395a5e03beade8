/* libFuzzer target: the message decoder (proto/codec.h) on any bytes.
 *
 * Property: proto_decode never crashes, leaks or reads out of bounds, and
 * what decodes re-encodes and decodes to the same message. "The same" is
 * checked on the canonical encoding: encode(decode(x)) is a frame y, and
 * encode(decode(y)) must be y byte for byte (the encoder writes one form
 * of each value, so equal bytes mean equal messages). Both the agent's
 * view (the dims a WELCOME fixes) and the server's are exercised: the
 * first byte picks the dims. */
#include "proto/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const proto_dims_t s_dims[] = {
    {.dim = PROTO_DIM_ANY, .slate_size = PROTO_DIM_ANY, .history_len = PROTO_DIM_ANY},
    {.dim = 4, .slate_size = 5, .history_len = 2},
    {.dim = 16, .slate_size = 5, .history_len = 5},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const proto_dims_t *dims = &s_dims[data[0] % (sizeof s_dims / sizeof s_dims[0])];
    data++, size--;

    proto_msg_t msg, again;
    proto_msg_init(&msg);
    proto_msg_init(&again);
    proto_buffer_t first, second;
    proto_buffer_init(&first);
    proto_buffer_init(&second);
    char err[PROTO_ERR_LEN];

    if (proto_decode(data, size, dims, &msg, err, sizeof err) == 0) {
        /* what decodes re-encodes, and decodes again under the same dims */
        if (proto_encode(&msg, &first, err, sizeof err) != 0)
            abort();
        if (proto_decode(first.data, first.size, dims, &again, err, sizeof err) != 0)
            abort();
        if (proto_encode(&again, &second, err, sizeof err) != 0)
            abort();
        if (first.size != second.size || memcmp(first.data, second.data, first.size) != 0)
            abort();
    }
    proto_buffer_fini(&first);
    proto_buffer_fini(&second);
    proto_msg_fini(&msg);
    proto_msg_fini(&again);
    return 0;
}
