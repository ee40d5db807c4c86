#ifndef CKNEEFORCE_H
#define CKNEEFORCE_H

// One header for everything Swift needs from C: OpenCL 1.2, CLBlast's C API and CBLAS.
//
// Only CBLAS (OpenBLAS) is linked. OpenCL and CLBlast are opened at run time
// (`kf_opencl_load`), so the same executable starts on a node without an OpenCL ICD loader or
// CLBlast and runs on the CPU backend there. Their headers are used for the types and
// constants only; Swift calls the `kf_` trampolines declared below, each forwarding to the
// entry point resolved from the loaded library (calling one before a successful
// `kf_opencl_load` is a programming error).
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <clblast_c.h>
#include <cblas.h>
#include <stddef.h>

/// Opens the OpenCL ICD loader and CLBlast and resolves every entry point KneeForce uses.
/// Library names: `KNEEFORCE_OPENCL_LIBRARY` / `KNEEFORCE_CLBLAST_LIBRARY` when set (a path
/// or a soname), else libOpenCL.so.1 and libclblast.so.1 (then their unversioned names).
/// Returns 0 when everything was found. Otherwise returns 1 (the OpenCL loader is missing
/// at its default name: a node without OpenCL), 2 (a library named by an environment
/// variable, or CLBlast next to a present OpenCL loader, is missing) or 3 (a library lacks an
/// entry point), and writes the reason to `reason`. Call once; not thread-safe (the Swift
/// side wraps it in a lazy static).
int kf_opencl_load(char *reason, size_t reason_size);

// X(return type, name, parameter list, argument list) for every OpenCL entry point used.
#define KF_OPENCL_FUNCTIONS(X)                                                                 \
  X(cl_int, clGetPlatformIDs, (cl_uint n, cl_platform_id * p, cl_uint * c), (n, p, c))         \
  X(cl_int, clGetPlatformInfo,                                                                 \
    (cl_platform_id p, cl_platform_info i, size_t s, void *v, size_t *r), (p, i, s, v, r))     \
  X(cl_int, clGetDeviceIDs,                                                                    \
    (cl_platform_id p, cl_device_type t, cl_uint n, cl_device_id * d, cl_uint * c),            \
    (p, t, n, d, c))                                                                           \
  X(cl_int, clGetDeviceInfo, (cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r), \
    (d, i, s, v, r))                                                                           \
  X(cl_context, clCreateContext,                                                               \
    (const cl_context_properties *p, cl_uint n, const cl_device_id *d,                         \
     void(CL_CALLBACK * f)(const char *, const void *, size_t, void *), void *u, cl_int *e),   \
    (p, n, d, f, u, e))                                                                        \
  X(cl_command_queue, clCreateCommandQueue,                                                    \
    (cl_context c, cl_device_id d, cl_command_queue_properties p, cl_int * e), (c, d, p, e))   \
  X(cl_program, clCreateProgramWithSource,                                                     \
    (cl_context c, cl_uint n, const char **s, const size_t *l, cl_int *e), (c, n, s, l, e))    \
  X(cl_program, clCreateProgramWithBinary,                                                     \
    (cl_context c, cl_uint n, const cl_device_id *d, const size_t *l,                          \
     const unsigned char **b, cl_int *bs, cl_int *e),                                          \
    (c, n, d, l, b, bs, e))                                                                    \
  X(cl_int, clBuildProgram,                                                                    \
    (cl_program p, cl_uint n, const cl_device_id *d, const char *o,                            \
     void(CL_CALLBACK * f)(cl_program, void *), void *u),                                      \
    (p, n, d, o, f, u))                                                                        \
  X(cl_int, clGetProgramBuildInfo,                                                             \
    (cl_program p, cl_device_id d, cl_program_build_info i, size_t s, void *v, size_t *r),     \
    (p, d, i, s, v, r))                                                                        \
  X(cl_int, clGetProgramInfo, (cl_program p, cl_program_info i, size_t s, void *v, size_t *r), \
    (p, i, s, v, r))                                                                           \
  X(cl_kernel, clCreateKernel, (cl_program p, const char *n, cl_int *e), (p, n, e))            \
  X(cl_int, clSetKernelArg, (cl_kernel k, cl_uint i, size_t s, const void *v), (k, i, s, v))   \
  X(cl_mem, clCreateBuffer, (cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e),      \
    (c, f, s, h, e))                                                                           \
  X(cl_int, clEnqueueNDRangeKernel,                                                            \
    (cl_command_queue q, cl_kernel k, cl_uint w, const size_t *o, const size_t *g,             \
     const size_t *l, cl_uint n, const cl_event *wl, cl_event *e),                             \
    (q, k, w, o, g, l, n, wl, e))                                                              \
  X(cl_int, clEnqueueReadBuffer,                                                               \
    (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, void *p, cl_uint n,          \
     const cl_event *wl, cl_event *e),                                                         \
    (q, m, b, o, s, p, n, wl, e))                                                              \
  X(cl_int, clEnqueueWriteBuffer,                                                              \
    (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, const void *p, cl_uint n,    \
     const cl_event *wl, cl_event *e),                                                         \
    (q, m, b, o, s, p, n, wl, e))                                                              \
  X(cl_int, clEnqueueFillBuffer,                                                               \
    (cl_command_queue q, cl_mem m, const void *p, size_t ps, size_t o, size_t s, cl_uint n,    \
     const cl_event *wl, cl_event *e),                                                         \
    (q, m, p, ps, o, s, n, wl, e))                                                             \
  X(cl_int, clEnqueueCopyBuffer,                                                               \
    (cl_command_queue q, cl_mem a, cl_mem b, size_t ao, size_t bo, size_t s, cl_uint n,        \
     const cl_event *wl, cl_event *e),                                                         \
    (q, a, b, ao, bo, s, n, wl, e))                                                            \
  X(cl_int, clFinish, (cl_command_queue q), (q))                                               \
  X(cl_int, clReleaseMemObject, (cl_mem m), (m))                                               \
  X(cl_int, clReleaseKernel, (cl_kernel k), (k))                                               \
  X(cl_int, clReleaseProgram, (cl_program p), (p))                                             \
  X(cl_int, clReleaseCommandQueue, (cl_command_queue q), (q))                                  \
  X(cl_int, clReleaseContext, (cl_context c), (c))

// The same for CLBlast.
#define KF_CLBLAST_FUNCTIONS(X)                                                                \
  X(CLBlastStatusCode, CLBlastSgemm,                                                           \
    (const CLBlastLayout l, const CLBlastTranspose ta, const CLBlastTranspose tb,              \
     const size_t m, const size_t n, const size_t k, const float alpha, const cl_mem a,        \
     const size_t ao, const size_t lda, const cl_mem b, const size_t bo, const size_t ldb,     \
     const float beta, cl_mem c, const size_t co, const size_t ldc, cl_command_queue *q,       \
     cl_event *e),                                                                             \
    (l, ta, tb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, q, e))               \
  X(CLBlastStatusCode, CLBlastSgemmStridedBatched,                                             \
    (const CLBlastLayout l, const CLBlastTranspose ta, const CLBlastTranspose tb,              \
     const size_t m, const size_t n, const size_t k, const float alpha, const cl_mem a,        \
     const size_t ao, const size_t lda, const size_t sa, const cl_mem b, const size_t bo,      \
     const size_t ldb, const size_t sb, const float beta, cl_mem c, const size_t co,           \
     const size_t ldc, const size_t sc, const size_t batch, cl_command_queue *q, cl_event *e), \
    (l, ta, tb, m, n, k, alpha, a, ao, lda, sa, b, bo, ldb, sb, beta, c, co, ldc, sc, batch,   \
     q, e))                                                                                    \
  X(CLBlastStatusCode, CLBlastOverrideParameters,                                              \
    (const cl_device_id d, const char *k, const CLBlastPrecision p, const size_t n,            \
     const char **names, const size_t *values),                                                \
    (d, k, p, n, names, values))

#define KF_DECLARE_TRAMPOLINE(ret, name, params, args) ret kf_##name params;
KF_OPENCL_FUNCTIONS(KF_DECLARE_TRAMPOLINE)
KF_CLBLAST_FUNCTIONS(KF_DECLARE_TRAMPOLINE)
#undef KF_DECLARE_TRAMPOLINE

// A GEMM with its right-hand operand packed once and reused (packed_gemm.c): the LSTM's
// recurrent products multiply the same W_hh at every step, where BLAS would repack it on each
// call. op(B) is K x N; the packed form is panels of 16 columns, `packed[p][k][16]`, zero past N.

/// Floats `kf_pack_b` writes for a K x N operand.
size_t kf_packed_floats(int k, int n);
/// Packs op(B): `trans_b` 0 reads B[k][n] at `b[k * ldb + n]`, 1 reads it at `b[n * ldb + k]`.
void kf_pack_b(const float *b, int ldb, int trans_b, int k, int n, float *packed);
/// C[m][n] = (accumulate ? C : 0) + A[m][k] op(B), A and C row-major with leading dimensions
/// lda and ldc. An AVX-512 8 x 32 or AVX2/FMA 6 x 16 register tile where the CPU has them
/// (the same bits: each element is one FMA chain over k), otherwise a scalar loop over the
/// same packed layout. `force_scalar` (for tests): 1 the scalar loop, 2 at most AVX2.
void kf_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c,
                    int ldc, int accumulate, int force_scalar);
/// C = (accumulate ? C : 0) + A1 op(B1) + A2 op(B2), both packed by `kf_pack_b` with the same
/// N: the inner dimension in two segments from two places (the LSTM step's [x_s h_{s-1}]
/// times [W_ih; W_hh]^T without copying the operands together). k2 = 0 is kf_gemm_packed.
void kf_gemm_packed2(int m, int n, int k1, const float *a1, int lda1, const float *packed1,
                     int k2, const float *a2, int lda2, const float *packed2, float *c, int ldc,
                     int accumulate, int force_scalar);
/// Rows of the register tile kf_gemm_packed runs here (8 with AVX-512, else 6): callers that
/// cut M across threads cut it in multiples of this.
int kf_gemm_packed_rows(void);
/// 1 when kf_gemm_packed runs the AVX2/FMA tile on this CPU.
int kf_gemm_packed_vectorised(void);

// The LSTM cell of one (direction, sequence) row, AVX2 / AVX-512 (lstm_cell.c): the C twin of
// the Swift rows in CPUBackend+LSTM.swift (same formulas, FMA in the exp). Call only where
// kf_lstm_cell_vectorised() is 1. Forward: `gates` holds gx (4H) and is overwritten with the
// activations i, f, g, o; c_prev and h may be NULL (first step, last step). Backward: `dact`
// may alias `act` (each 8-lane chunk reads its four gates before writing them).
int kf_lstm_cell_vectorised(void);
/// Chooses the AVX-512 (on 1) or AVX2 (on 0) cell for the whole process, for tests and the
/// micro-benchmark; on -1 returns to the default (the packed GEMM's choice). Returns whether
/// AVX-512 is now used (never where the CPU lacks it).
int kf_lstm_cell_use_avx512(int on);
void kf_lstm_cell_forward(int hidden, float *gates, const float *rec, const float *bias_ih,
                          const float *bias_hh, const float *c_prev, float *c, float *h,
                          float *y);
/// The fused step's cell: `pre` (4H) is x_s W_ih^T + h_{s-1} W_hh^T already summed; the
/// biases are added and the activations written to `gates`.
void kf_lstm_cell_forward_summed(int hidden, const float *pre, float *gates,
                                 const float *bias_ih, const float *bias_hh, const float *c_prev,
                                 float *c, float *h, float *y);
/// dst[0..<n] = src[0..<n] with non-temporal stores where dst is aligned for them (else a
/// memcpy): for saved activations that only a later pass reads. kf_stream_fence() orders
/// them before another thread reads (call it at the end of the writing thread's work).
void kf_stream_copy(float *dst, const float *src, int n);
void kf_stream_fence(void);
void kf_lstm_cell_backward(int hidden, const float *act, const float *c, const float *c_prev,
                           const float *dy, const float *dh_rec, float *dc_state, float *dact);

/// GFLOP/s of AVX2 FMAs on the calling thread, measured for about `seconds` (fma_peak.c);
/// 0 where there is no AVX2/FMA.
double kf_fma_peak_gflops(double seconds);

/// OpenBLAS's own queries, declared here so Swift can report the CPU backend honestly.
const char *kf_blas_config(void);
void kf_blas_set_threads(int n);

#endif
