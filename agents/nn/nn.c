/* Multi-layer perceptrons on cblas_sgemm: forward and backward over a
 * batch with preallocated workspace, MSE, Adam, clipping, soft updates
 * and the weight file (docs/nn.md). Row-major throughout; a layer's
 * weights are W (out, in) as in PyTorch, so a layer computes
 * Y (batch, out) = X (batch, in) W^T + b. */
#include "agents/nn/nn.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

/* The weight file (docs/nn.md). Bump NN_FILE_VERSION if the layout
 * changes; a reader refuses every version but its own. */
static const uint8_t s_file_magic[4] = {'R', 'A', 'N', 'N'};
#define NN_FILE_VERSION 1u

struct nn_mlp {
    int n_layers;
    int sizes[NN_MAX_LAYERS + 1];
    nn_activation_t acts[NN_MAX_LAYERS];
    int max_batch;
    int batch;                     /* rows of the last forward; 0 before the first */
    size_t n_params;               /* total floats in params and grads */
    size_t offsets[NN_MAX_LAYERS]; /* start of layer l's W in params; b follows W */
    float *params;                 /* (n_params) */
    float *grads;                  /* (n_params) */
    /* outputs[0]: the input copy (max_batch, sizes[0]);
     * outputs[l + 1]: layer l's f(z) (max_batch, sizes[l + 1]) */
    float *outputs[NN_MAX_LAYERS + 1];
    float *delta[2]; /* backward scratch, (max_batch, widest non-input layer) */
};

struct nn_adam {
    size_t n;
    float lr;
    long long t; /* steps taken */
    float *m;    /* first moments (n) */
    float *v;    /* second moments (n) */
};

void nn_blas_set_threads(int n_threads)
{
    openblas_set_num_threads(n_threads);
}

/* ---- construction ---------------------------------------------------- */

static bool s_valid_activation(nn_activation_t act)
{
    return act == NN_LINEAR || act == NN_RELU || act == NN_TANH;
}

nn_mlp_t *nn_mlp_new(int n_layers, const int *sizes, const nn_activation_t *acts, int max_batch,
                     pcg32_t *rng)
{
    if (n_layers < 1 || n_layers > NN_MAX_LAYERS || !sizes || !acts || max_batch < 1 ||
        max_batch > NN_MAX_BATCH)
        return NULL;
    for (int i = 0; i <= n_layers; i++)
        if (sizes[i] < 1 || sizes[i] > NN_MAX_WIDTH)
            return NULL;
    for (int l = 0; l < n_layers; l++)
        if (!s_valid_activation(acts[l]))
            return NULL;

    nn_mlp_t *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    net->n_layers = n_layers;
    net->max_batch = max_batch;
    memcpy(net->sizes, sizes, (size_t)(n_layers + 1) * sizeof *sizes);
    memcpy(net->acts, acts, (size_t)n_layers * sizeof *acts);

    int widest = 0;
    for (int l = 0; l < n_layers; l++) {
        net->offsets[l] = net->n_params;
        net->n_params += (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
        if (sizes[l + 1] > widest)
            widest = sizes[l + 1];
    }
    net->params = calloc(net->n_params, sizeof(float));
    net->grads = calloc(net->n_params, sizeof(float));
    if (!net->params || !net->grads)
        goto fail_free_net;
    for (int i = 0; i <= n_layers; i++) {
        net->outputs[i] = malloc((size_t)max_batch * (size_t)sizes[i] * sizeof(float));
        if (!net->outputs[i])
            goto fail_free_net;
    }
    for (int i = 0; i < 2; i++) {
        net->delta[i] = malloc((size_t)max_batch * (size_t)widest * sizeof(float));
        if (!net->delta[i])
            goto fail_free_net;
    }

    if (rng) {
        for (int l = 0; l < n_layers; l++) {
            const float bound = 1.0f / sqrtf((float)sizes[l]);
            const size_t count = (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
            float *p = net->params + net->offsets[l];
            for (size_t i = 0; i < count; i++)
                p[i] = bound * (2.0f * pcg32_uniform_f(rng) - 1.0f);
        }
    }
    return net;

fail_free_net:
    nn_mlp_destroy(&net);
    return NULL;
}

void nn_mlp_destroy(nn_mlp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nn_mlp_t *net = *self_p;
    free(net->params);
    free(net->grads);
    for (int i = 0; i <= net->n_layers; i++)
        free(net->outputs[i]);
    free(net->delta[0]);
    free(net->delta[1]);
    free(net);
    *self_p = NULL;
}

int nn_mlp_n_layers(const nn_mlp_t *net)
{
    return net->n_layers;
}

int nn_mlp_size(const nn_mlp_t *net, int index)
{
    assert(index >= 0 && index <= net->n_layers);
    return net->sizes[index];
}

nn_activation_t nn_mlp_activation(const nn_mlp_t *net, int layer)
{
    assert(layer >= 0 && layer < net->n_layers);
    return net->acts[layer];
}

int nn_mlp_in(const nn_mlp_t *net)
{
    return net->sizes[0];
}

int nn_mlp_out(const nn_mlp_t *net)
{
    return net->sizes[net->n_layers];
}

int nn_mlp_max_batch(const nn_mlp_t *net)
{
    return net->max_batch;
}

size_t nn_mlp_n_params(const nn_mlp_t *net)
{
    return net->n_params;
}

float *nn_mlp_params(nn_mlp_t *net)
{
    return net->params;
}

float *nn_mlp_grads(nn_mlp_t *net)
{
    return net->grads;
}

/* ---- forward and backward -------------------------------------------- */

/* y <- f(y) in place; y: (n). The loops are written so that the
 * compiler vectorizes them at -O3 (agents/CMakeLists.txt): a ReLU that
 * branches per element is ten times slower on random signs. */
static void s_activate(nn_activation_t act, float *y, size_t n)
{
    switch (act) {
    case NN_LINEAR:
        break;
    case NN_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(y[i]);
        break;
    }
}

/* dz = dy * f'(z), with f'(z) written in terms of y = f(z).
 * y, dy, dz: (n), dz apart from the others */
static void s_activation_grad(nn_activation_t act, const float *restrict y,
                              const float *restrict dy, float *restrict dz, size_t n)
{
    switch (act) {
    case NN_LINEAR:
        memcpy(dz, dy, n * sizeof *dz);
        break;
    case NN_RELU:
        for (size_t i = 0; i < n; i++) {
            const float g = dy[i]; /* read unconditionally, so that no branch is needed */
            dz[i] = y[i] > 0.0f ? g : 0.0f;
        }
        break;
    case NN_TANH:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    }
}

const float *nn_mlp_forward(nn_mlp_t *net, const float *x, int batch)
{
    assert(batch >= 1 && batch <= net->max_batch);
    net->batch = batch;
    memcpy(net->outputs[0], x, (size_t)batch * (size_t)net->sizes[0] * sizeof *x);
    for (int l = 0; l < net->n_layers; l++) {
        const int in = net->sizes[l], out = net->sizes[l + 1];
        const float *w = net->params + net->offsets[l]; /* (out, in) */
        const float *b = w + (size_t)out * (size_t)in;  /* (out) */
        const float *xl = net->outputs[l];              /* (batch, in) */
        float *y = net->outputs[l + 1];                 /* (batch, out) */
        for (int r = 0; r < batch; r++)
            memcpy(y + (size_t)r * (size_t)out, b, (size_t)out * sizeof *b);
        /* y (batch, out) += x (batch, in) . W^T (in, out) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1.0f, xl, in, w, in,
                    1.0f, y, out);
        s_activate(net->acts[l], y, (size_t)batch * (size_t)out);
    }
    return net->outputs[net->n_layers];
}

/* Both backward flavours: parameter gradients when param_grads, dL/dx
 * when din is not NULL. */
static void s_backward(nn_mlp_t *net, const float *dout, float *din, bool param_grads)
{
    assert(net->batch >= 1); /* a forward came first */
    const int batch = net->batch;
    const int last = net->n_layers - 1;
    const float *dy = dout; /* dL/d(layer output): (batch, out) */
    int next = 0;
    for (int l = last; l >= 0; l--) {
        const int in = net->sizes[l], out = net->sizes[l + 1];
        const float *w = net->params + net->offsets[l];
        const float *xl = net->outputs[l];
        float *dz = net->delta[next]; /* dL/dz: (batch, out) */
        s_activation_grad(net->acts[l], net->outputs[l + 1], dy, dz, (size_t)batch * (size_t)out);
        if (param_grads) {
            float *dw = net->grads + net->offsets[l];  /* (out, in) */
            float *db = dw + (size_t)out * (size_t)in; /* (out) */
            /* dW (out, in) += dz^T (out, batch) . x (batch, in) */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1.0f, dz, out, xl,
                        in, 1.0f, dw, in);
            for (int r = 0; r < batch; r++) {
                const float *dzr = dz + (size_t)r * (size_t)out;
                for (int j = 0; j < out; j++)
                    db[j] += dzr[j];
            }
        }
        if (l == 0 && !din)
            break;
        /* dL/dx (batch, in) = dz (batch, out) . W (out, in) */
        float *dx = l == 0 ? din : net->delta[1 - next];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1.0f, dz, out, w, in,
                    0.0f, dx, in);
        dy = dx;
        next = 1 - next;
    }
}

void nn_mlp_backward(nn_mlp_t *net, const float *dout, float *din)
{
    s_backward(net, dout, din, true);
}

void nn_mlp_input_grad(nn_mlp_t *net, const float *dout, float *din)
{
    assert(din);
    s_backward(net, dout, din, false);
}

void nn_mlp_zero_grad(nn_mlp_t *net)
{
    memset(net->grads, 0, net->n_params * sizeof *net->grads);
}

float nn_mlp_clip_grad_norm(nn_mlp_t *net, float max_norm)
{
    assert(max_norm > 0.0f);
    double sum = 0.0;
    for (size_t i = 0; i < net->n_params; i++)
        sum += (double)net->grads[i] * net->grads[i];
    const double norm = sqrt(sum);
    if (norm > max_norm) {
        const float scale = (float)(max_norm / norm);
        for (size_t i = 0; i < net->n_params; i++)
            net->grads[i] *= scale;
    }
    return (float)norm;
}

/* ---- target networks ------------------------------------------------- */

static bool s_same_shape(const nn_mlp_t *a, const nn_mlp_t *b)
{
    if (a->n_layers != b->n_layers)
        return false;
    for (int i = 0; i <= a->n_layers; i++)
        if (a->sizes[i] != b->sizes[i])
            return false;
    for (int l = 0; l < a->n_layers; l++)
        if (a->acts[l] != b->acts[l])
            return false;
    return true;
}

int nn_mlp_soft_update(nn_mlp_t *target, const nn_mlp_t *source, float tau)
{
    assert(tau >= 0.0f && tau <= 1.0f);
    if (!s_same_shape(target, source))
        return ERR_ESHAPE;
    const float keep = 1.0f - tau;
    for (size_t i = 0; i < target->n_params; i++)
        target->params[i] = tau * source->params[i] + keep * target->params[i];
    return 0;
}

int nn_mlp_copy(nn_mlp_t *target, const nn_mlp_t *source)
{
    if (!s_same_shape(target, source))
        return ERR_ESHAPE;
    memcpy(target->params, source->params, target->n_params * sizeof *target->params);
    return 0;
}

/* ---- loss ------------------------------------------------------------ */

double nn_mse_loss(const float *pred, const float *target, int batch, int n_out, float *dpred)
{
    const size_t n = (size_t)batch * (size_t)n_out;
    const float scale = 2.0f / (float)n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float diff = pred[i] - target[i];
        sum += (double)diff * diff;
        if (dpred)
            dpred[i] = scale * diff;
    }
    return sum / (double)n;
}

/* ---- Adam ------------------------------------------------------------ */

nn_adam_t *nn_adam_new(const nn_mlp_t *net, float lr)
{
    if (!net || !(lr > 0.0f))
        return NULL;
    nn_adam_t *adam = calloc(1, sizeof *adam);
    if (!adam)
        return NULL;
    adam->n = net->n_params;
    adam->lr = lr;
    adam->m = calloc(adam->n, sizeof *adam->m);
    adam->v = calloc(adam->n, sizeof *adam->v);
    if (!adam->m || !adam->v) {
        nn_adam_destroy(&adam);
        return NULL;
    }
    return adam;
}

void nn_adam_destroy(nn_adam_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->m);
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

void nn_adam_set_lr(nn_adam_t *adam, float lr)
{
    assert(lr > 0.0f);
    adam->lr = lr;
}

void nn_adam_step(nn_adam_t *adam, nn_mlp_t *net)
{
    assert(adam->n == net->n_params);
    adam->t++;
    const float b1 = NN_ADAM_BETA1, b2 = NN_ADAM_BETA2;
    const float correction1 = (float)(1.0 - pow(NN_ADAM_BETA1, (double)adam->t));
    const float correction2 = (float)(1.0 - pow(NN_ADAM_BETA2, (double)adam->t));
    const float step = adam->lr / correction1;
    const float root2 = sqrtf(correction2);
    float *p = net->params, *m = adam->m, *v = adam->v;
    const float *g = net->grads;
    for (size_t i = 0; i < adam->n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / root2 + NN_ADAM_EPS);
    }
}

/* ---- the weight file ------------------------------------------------- */

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, as zlib's crc32)
 * of n bytes. */
static uint32_t s_crc32(const uint8_t *data, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void s_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t s_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bytes before the parameters: magic, version, layer count, sizes,
 * activations. */
static size_t s_header_size(int n_layers)
{
    return 12 + 4 * (size_t)(n_layers + 1) + 4 * (size_t)n_layers;
}

/* Bytes of net's file: header, parameters, CRC. */
static size_t s_file_size(const nn_mlp_t *net)
{
    return s_header_size(net->n_layers) + 4 * net->n_params + 4;
}

/* Formats a message into err (when there is one) and returns code. */
__attribute__((format(printf, 4, 5))) static int s_error(char *err, size_t err_len, int code,
                                                         const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

int nn_mlp_save(const nn_mlp_t *net, const char *path, char *err, size_t err_len)
{
    int rc = 0;
    const size_t size = s_file_size(net);
    uint8_t *bytes = malloc(size);
    char *tmp = malloc(strlen(path) + 5);
    if (!bytes || !tmp) {
        rc = s_error(err, err_len, ERR_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    uint8_t *p = bytes;
    memcpy(p, s_file_magic, 4);
    s_put_u32(p + 4, NN_FILE_VERSION);
    s_put_u32(p + 8, (uint32_t)net->n_layers);
    p += 12;
    for (int i = 0; i <= net->n_layers; i++, p += 4)
        s_put_u32(p, (uint32_t)net->sizes[i]);
    for (int l = 0; l < net->n_layers; l++, p += 4)
        s_put_u32(p, (uint32_t)net->acts[l]);
    for (size_t i = 0; i < net->n_params; i++, p += 4) {
        uint32_t bits;
        memcpy(&bits, &net->params[i], 4);
        s_put_u32(p, bits);
    }
    s_put_u32(p, s_crc32(bytes, size - 4));

    strcpy(tmp, path);
    strcat(tmp, ".tmp");
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = s_error(err, err_len, ERR_EIO, "%s: cannot open: %s", tmp, strerror(errno));
        goto done;
    }
    const bool written = fwrite(bytes, 1, size, f) == size;
    const int saved_errno = errno;
    if (fclose(f) != 0 || !written) {
        rc = s_error(err, err_len, ERR_EIO, "%s: cannot write: %s", tmp,
                     strerror(written ? errno : saved_errno));
        remove(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = s_error(err, err_len, ERR_EIO, "%s: cannot rename to %s: %s", tmp, path,
                     strerror(errno));
        remove(tmp);
    }
done:
    free(tmp);
    free(bytes);
    return rc;
}

/* Reads exactly n bytes; false at end of file or on an error (ferror
 * tells which). */
static bool s_read(FILE *f, uint8_t *buf, size_t n)
{
    return fread(buf, 1, n, f) == n;
}

static const char *s_activation_name(uint32_t act)
{
    switch (act) {
    case NN_LINEAR:
        return "linear";
    case NN_RELU:
        return "relu";
    case NN_TANH:
        return "tanh";
    default:
        return "unknown";
    }
}

/* Checks the header bytes (s_header_size(net->n_layers), of which the
 * first 12 give the layer count) against net. */
static int s_check_header(const nn_mlp_t *net, const uint8_t *h, const char *path, char *err,
                          size_t err_len)
{
    for (int i = 0; i <= net->n_layers; i++) {
        const uint32_t size = s_get_u32(h + 12 + 4 * (size_t)i);
        if (size != (uint32_t)net->sizes[i])
            return s_error(err, err_len, ERR_ESHAPE,
                           "%s: size %d is %u in the file, %d in the network", path, i, size,
                           net->sizes[i]);
    }
    const uint8_t *acts = h + 12 + 4 * (size_t)(net->n_layers + 1);
    for (int l = 0; l < net->n_layers; l++) {
        const uint32_t act = s_get_u32(acts + 4 * (size_t)l);
        if (act != (uint32_t)net->acts[l])
            return s_error(err, err_len, ERR_ESHAPE,
                           "%s: layer %d activation is %s (%u) in the file, %s in the network",
                           path, l, s_activation_name(act), act,
                           s_activation_name((uint32_t)net->acts[l]));
    }
    return 0;
}

int nn_mlp_load(nn_mlp_t *net, const char *path, char *err, size_t err_len)
{
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return s_error(err, err_len, ERR_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* The network, not the file, sizes the buffer: nothing the file says
     * is allocated before it has matched the network. */
    const size_t size = s_file_size(net);
    uint8_t *bytes = malloc(size + 1);
    if (!bytes) {
        rc = s_error(err, err_len, ERR_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    const size_t header = s_header_size(net->n_layers);
    const size_t got = fread(bytes, 1, 12, f);
    if (got >= 4 && memcmp(bytes, s_file_magic, 4) != 0) {
        rc = s_error(err, err_len, ERR_EFORMAT, "%s: not a network file (bad magic)", path);
        goto done;
    }
    if (got < 12)
        goto short_read;
    const uint32_t version = s_get_u32(bytes + 4);
    if (version != NN_FILE_VERSION) {
        rc = s_error(err, err_len, ERR_EFORMAT, "%s: format version %u, this build reads %u", path,
                     version, NN_FILE_VERSION);
        goto done;
    }
    const uint32_t n_layers = s_get_u32(bytes + 8);
    if (n_layers != (uint32_t)net->n_layers) {
        rc = s_error(err, err_len, ERR_ESHAPE, "%s: %u layers in the file, %d in the network", path,
                     n_layers, net->n_layers);
        goto done;
    }
    if (!s_read(f, bytes + 12, header - 12))
        goto short_read;
    rc = s_check_header(net, bytes, path, err, err_len);
    if (rc != 0)
        goto done;
    if (!s_read(f, bytes + header, size - header))
        goto short_read;
    if (fread(bytes + size, 1, 1, f) != 0) {
        rc = s_error(err, err_len, ERR_ECORRUPT, "%s: bytes after the end of the network", path);
        goto done;
    }
    if (ferror(f))
        goto short_read;
    const uint32_t stored = s_get_u32(bytes + size - 4);
    const uint32_t computed = s_crc32(bytes, size - 4);
    if (stored != computed) {
        rc = s_error(err, err_len, ERR_ECORRUPT,
                     "%s: checksum mismatch (file says %08x, contents give %08x)", path, stored,
                     computed);
        goto done;
    }
    const uint8_t *p = bytes + header;
    for (size_t i = 0; i < net->n_params; i++, p += 4) {
        const uint32_t bits = s_get_u32(p);
        memcpy(&net->params[i], &bits, 4);
    }
    goto done;

short_read:
    if (ferror(f))
        rc = s_error(err, err_len, ERR_EIO, "%s: cannot read: %s", path, strerror(errno));
    else
        rc = s_error(err, err_len, ERR_ETRUNC, "%s: file ends early (%zu bytes expected)", path,
                     size);
done:
    free(bytes);
    fclose(f);
    return rc;
}
