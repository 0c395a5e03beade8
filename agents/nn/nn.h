/* A small neural-network module for the learning agents (DQN, MADDPG):
 * multi-layer perceptrons of dense layers with ReLU, tanh or linear
 * activations, an MSE loss, backpropagation to the parameters and to the
 * inputs (a DDPG actor follows dQ/da through the critic), Adam, gradient
 * clipping by global norm, soft (Polyak) target updates, and weights saved
 * in a checked little-endian file. Matrix products are cblas_sgemm calls
 * (OpenBLAS); everything is float32. docs/nn.md has the formulas, the file
 * format byte by byte and the numbers of the gradient checks.
 *
 * A training step:
 *
 *     const float *y = nn_mlp_forward(net, x, batch);   x: (batch, in)
 *     nn_mse_loss(y, target, batch, out, dy);            dy: (batch, out)
 *     nn_mlp_zero_grad(net);
 *     nn_mlp_backward(net, dy, NULL);                    NULL: no dL/dx wanted
 *     nn_mlp_clip_grad_norm(net, 0.5f);
 *     nn_adam_step(adam, net);
 *     nn_mlp_soft_update(target_net, net, 0.01f);
 *
 * Forward and backward allocate nothing: a network owns workspace for up
 * to max_batch rows. With one BLAS thread (nn_blas_set_threads(1)) the
 * same seed and the same calls give bit-identical weights on the same
 * machine and library build. Nothing here is thread-safe; use one network
 * from one thread at a time. */
#ifndef RECARENA_NN_H
#define RECARENA_NN_H

#include <stddef.h>

#include "core/err.h"
#include "core/pcg32.h"

#define NN_MAX_LAYERS 16      /* dense layers per network */
#define NN_MAX_WIDTH  65536   /* units per layer, inputs included */
#define NN_MAX_BATCH  1048576 /* rows per forward call */

/* Errors: 0 or a negative code of core/err.h, printed with err_str:
 *   ERR_ENOMEM    allocation failed
 *   ERR_EIO       a file could not be opened, read, written or renamed
 *   ERR_EFORMAT   not a recarena network file, or one of a format version
 *                 this build does not read (the message in err says which;
 *                 ERR_EVERSION is the wire protocol's, not a file's)
 *   ERR_ESHAPE    layer sizes or activations differ from the network's
 *   ERR_ETRUNC    the file ends before its weights and checksum do
 *   ERR_ECORRUPT  checksum mismatch, or bytes after the end */

/* Activation after a dense layer. The values are written to weight files:
 * never renumber them. */
typedef enum nn_activation {
    NN_LINEAR = 0, /* f(z) = z */
    NN_RELU = 1,   /* f(z) = max(z, 0); f'(0) = 0 */
    NN_TANH = 2,   /* f(z) = tanh(z) */
} nn_activation_t;

/* Sets the number of OpenBLAS threads for the whole process (it calls
 * openblas_set_num_threads). Agents call nn_blas_set_threads(1) once at
 * start: the matrices are small, each agent is one process among several
 * on few cores, and one thread makes results reproducible. The
 * environment variable OPENBLAS_NUM_THREADS=1 does the same. */
void nn_blas_set_threads(int n_threads);

/* ---- multi-layer perceptron ------------------------------------------ */

typedef struct nn_mlp nn_mlp_t;

/* A network of n_layers dense layers: layer l maps sizes[l] inputs to
 * sizes[l + 1] outputs and applies acts[l]. sizes: (n_layers + 1), each
 * 1..NN_MAX_WIDTH; acts: (n_layers); n_layers 1..NN_MAX_LAYERS; max_batch
 * 1..NN_MAX_BATCH rows per forward call, the workspace allocated here.
 * Weights and biases of a layer with fan-in n are drawn uniformly from
 * [-1/sqrt(n), 1/sqrt(n)) as PyTorch's nn.Linear does by default, in
 * parameter order (below), one pcg32_uniform_f per parameter; rng NULL
 * leaves every parameter 0 (for a target network about to be copied, or
 * a network about to be loaded). Gradients start at 0. Borrows sizes,
 * acts and rng for the call. Caller owns the result (nn_mlp_destroy);
 * NULL on a bad argument or out of memory. */
nn_mlp_t *nn_mlp_new(int n_layers, const int *sizes, const nn_activation_t *acts, int max_batch,
                     pcg32_t *rng);

/* Frees the network and nulls *self_p; NULL and *self_p NULL are fine. */
void nn_mlp_destroy(nn_mlp_t **self_p);

int nn_mlp_n_layers(const nn_mlp_t *net);
int nn_mlp_size(const nn_mlp_t *net, int index); /* sizes[index], 0..n_layers */
nn_activation_t nn_mlp_activation(const nn_mlp_t *net, int layer);
int nn_mlp_in(const nn_mlp_t *net);  /* sizes[0] */
int nn_mlp_out(const nn_mlp_t *net); /* sizes[n_layers] */
int nn_mlp_max_batch(const nn_mlp_t *net);

/* Every parameter in one array of nn_mlp_n_params floats, layer by layer,
 * each layer's weights W (out, in) row-major, as PyTorch stores them, then
 * its biases b (out). nn_mlp_grads has the same layout and holds dL/dparam
 * as accumulated by nn_mlp_backward. Borrowed, valid until destroy;
 * writing through them is allowed (custom initialisation, tests). */
size_t nn_mlp_n_params(const nn_mlp_t *net);
float *nn_mlp_params(nn_mlp_t *net);
float *nn_mlp_grads(nn_mlp_t *net);

/* y = f(x W^T + b) through every layer, for batch rows at once.
 * x: (batch, in), copied, so the caller may reuse it at once; 1 <= batch
 * <= max_batch. Returns y: (batch, out), borrowed, valid until the next
 * forward on this network. Keeps every layer's output for the backward
 * that follows. */
const float *nn_mlp_forward(nn_mlp_t *net, const float *x, int batch);

/* Backpropagates dL/dy through the last forward: ADDS dL/dparam to the
 * gradients (call nn_mlp_zero_grad first unless accumulating on purpose)
 * and, when din is not NULL, writes dL/dx into it. dout: (batch, out),
 * din: (batch, in), batch of the last forward; both borrowed for the
 * call. At a ReLU's kink (z = 0) the derivative taken is 0. */
void nn_mlp_backward(nn_mlp_t *net, const float *dout, float *din);

/* Only dL/dx for the last forward, gradients untouched: what a DDPG actor
 * update asks of the critic (dQ/da). dout: (batch, out), din: (batch, in),
 * borrowed for the call. */
void nn_mlp_input_grad(nn_mlp_t *net, const float *dout, float *din);

void nn_mlp_zero_grad(nn_mlp_t *net);

/* Scales the gradients so that their global L2 norm (over every parameter
 * of the network) is at most max_norm > 0: by max_norm / norm when norm >
 * max_norm, not at all otherwise. Returns the norm before clipping. */
float nn_mlp_clip_grad_norm(nn_mlp_t *net, float max_norm);

/* target <- tau * source + (1 - tau) * target, parameter by parameter,
 * tau in [0, 1]: tau 1 copies, tau 0 keeps (both bit-exact). Networks of
 * the same sizes and activations; ERR_ESHAPE otherwise (target untouched).
 * Gradients and workspace are not touched. Borrows source. */
int nn_mlp_soft_update(nn_mlp_t *target, const nn_mlp_t *source, float tau);

/* target's parameters <- source's (nn_mlp_soft_update with tau 1). */
int nn_mlp_copy(nn_mlp_t *target, const nn_mlp_t *source);

/* Writes sizes, activations and parameters to path (format in docs/nn.md:
 * little-endian header, float32 weights, CRC-32), through path.tmp renamed
 * over path, so that a failed save leaves any earlier file whole. On
 * failure returns ERR_EIO or ERR_ENOMEM and, when err is not NULL, a message
 * naming the path in err (err_len bytes, NUL-terminated). */
int nn_mlp_save(const nn_mlp_t *net, const char *path, char *err, size_t err_len);

/* Reads parameters saved by nn_mlp_save into net, whose sizes and
 * activations must be those of the file. Refuses a file that is not a
 * network file or of another format version (ERR_EFORMAT), of
 * other sizes or activations (ERR_ESHAPE), cut short (ERR_ETRUNC), or whose
 * checksum fails or that goes on after its end (ERR_ECORRUPT); ERR_EIO when
 * it cannot be read. On failure net is untouched and err (if not NULL)
 * holds a message naming the path and what is wrong. Gradients are left
 * as they are. */
int nn_mlp_load(nn_mlp_t *net, const char *path, char *err, size_t err_len);

/* ---- loss ------------------------------------------------------------ */

/* Mean squared error over all batch * n_out elements (PyTorch's MSELoss,
 * reduction "mean"): L = sum (pred - target)^2 / (batch * n_out).
 * pred, target: (batch, n_out). When dpred is not NULL, writes dL/dpred
 * = 2 (pred - target) / (batch * n_out) into it, (batch, n_out). Returns L
 * (summed in double). */
double nn_mse_loss(const float *pred, const float *target, int batch, int n_out, float *dpred);

/* ---- Adam ------------------------------------------------------------ */

#define NN_ADAM_BETA1 0.9f
#define NN_ADAM_BETA2 0.999f
#define NN_ADAM_EPS   1e-8f

typedef struct nn_adam nn_adam_t;

/* Adam (Kingma & Ba 2015, with bias correction, as torch.optim.Adam) for
 * the parameters of networks shaped like net: learning rate lr > 0,
 * beta1 NN_ADAM_BETA1, beta2 NN_ADAM_BETA2, eps NN_ADAM_EPS. Moments
 * start at 0. Borrows net for the call. Caller owns the result
 * (nn_adam_destroy); NULL on a bad argument or out of memory. */
nn_adam_t *nn_adam_new(const nn_mlp_t *net, float lr);

/* Frees the optimizer and nulls *self_p; NULL and *self_p NULL are fine. */
void nn_adam_destroy(nn_adam_t **self_p);

void nn_adam_set_lr(nn_adam_t *adam, float lr);

/* One update of net's parameters from net's gradients (which it leaves as
 * they are): t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). net must be the
 * network the optimizer was made for (same number of parameters). */
void nn_adam_step(nn_adam_t *adam, nn_mlp_t *net);

#endif
