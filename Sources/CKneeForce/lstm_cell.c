// The LSTM cell of one (direction, sequence) row as an AVX2 / AVX-512 kernel: the C twin of
// `gatesForwardRow` / `gatesBackwardRow` in Sources/KneeForceCompute/CPU/CPUBackend+LSTM.swift
// (the portable Swift loops, which run where AVX2 is missing) and of
// Kernels/lstm_gates_forward.cl / lstm_gates_backward.cl. The formulas are the Swift loops'
// (the same Cephes exp, clamps and rounding trick), with fused multiply-adds in the exp: its
// chain was throughput-bound at 15 cycles per vector with separate multiplies and adds, and
// the cell was 13-21 % of a biLSTM epoch. Results agree with the Swift rows to a few ulps
// (LSTMCellKernelTests). Written in C because Swift lowered parts of the SIMD8 code to
// 128-bit halves and lane-wise moves.
#include "CKneeForce.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KF_TARGET __attribute__((target("avx2,fma")))

KF_TARGET static inline __m256 kf_exp8(__m256 x) {
  // Operands in this order keep a NaN (min/max return the second operand when one is NaN),
  // as the Swift loops do: a diverging lane must stay visible.
  x = _mm256_min_ps(_mm256_set1_ps(88.3f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-87.3f), x);
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), magic);
  const __m256 n = _mm256_sub_ps(shifted, magic);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.1219444e-4f), r);
  __m256 p = _mm256_set1_ps(1.98756915e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.39819995e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665796e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666655e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(127 - 0x4B400000)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

KF_TARGET static inline __m256 kf_sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1);
  return _mm256_div_ps(one, _mm256_add_ps(one, kf_exp8(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)))));
}

KF_TARGET static inline __m256 kf_tanh8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1);
  return _mm256_sub_ps(
      one, _mm256_div_ps(_mm256_set1_ps(2), _mm256_add_ps(kf_exp8(_mm256_add_ps(x, x)), one)));
}

// Eight floats at p, or the first n of them and zeros: widths that are not multiples of 8
// share the vector code, as `load8` / `store8` do in Swift.
KF_TARGET static inline __m256 kf_load(const float *p, int n) {
  if (n >= 8) return _mm256_loadu_ps(p);
  float t[8] = {0};
  memcpy(t, p, (size_t)n * sizeof(float));
  return _mm256_loadu_ps(t);
}

KF_TARGET static inline void kf_store(float *p, __m256 v, int n) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  float t[8];
  _mm256_storeu_ps(t, v);
  memcpy(p, t, (size_t)n * sizeof(float));
}

// Eight hidden units j..j+7 of the cell (the first n of them valid), n a constant 8 in the
// main loop so its loads and stores are plain vector moves. `src` holds the pre-activation
// sums so far (gx, or the whole product of the fused step); `rec` (gh) is added when given;
// the activations go to `dst` (which may be `src`: the chunk reads its four gates before
// writing them).
KF_TARGET __attribute__((always_inline)) static inline void kf_cell_chunk(
    int H, int j, int n, const float *src, const float *rec, float *dst, const float *bias_ih,
    const float *bias_hh, const float *c_prev, float *c, float *h, float *y) {
  __m256 pre[4];
  for (int k = 0; k < 4; k++) {
    const int o = k * H + j;
    __m256 v = kf_load(src + o, n);
    if (rec) v = _mm256_add_ps(v, kf_load(rec + o, n));
    pre[k] = _mm256_add_ps(_mm256_add_ps(v, kf_load(bias_ih + o, n)), kf_load(bias_hh + o, n));
  }
  const __m256 i = kf_sigmoid8(pre[0]);
  const __m256 f = kf_sigmoid8(pre[1]);
  const __m256 g = kf_tanh8(pre[2]);
  const __m256 o = kf_sigmoid8(pre[3]);
  kf_store(dst + j, i, n);
  kf_store(dst + H + j, f, n);
  kf_store(dst + 2 * H + j, g, n);
  kf_store(dst + 3 * H + j, o, n);
  const __m256 cp = c_prev ? kf_load(c_prev + j, n) : _mm256_setzero_ps();
  const __m256 cn = _mm256_add_ps(_mm256_mul_ps(f, cp), _mm256_mul_ps(i, g));
  const __m256 hn = _mm256_mul_ps(o, kf_tanh8(cn));
  kf_store(c + j, cn, n);
  if (h) kf_store(h + j, hn, n);
  kf_store(y + j, hn, n);
}

KF_TARGET __attribute__((always_inline)) static inline void kf_lstm_cell_forward_avx2(
    int H, const float *src, const float *rec, float *dst, const float *bias_ih,
    const float *bias_hh, const float *c_prev, float *c, float *h, float *y) {
  int j = 0;
  for (; j + 8 <= H; j += 8) kf_cell_chunk(H, j, 8, src, rec, dst, bias_ih, bias_hh, c_prev, c, h, y);
  if (j < H) kf_cell_chunk(H, j, H - j, src, rec, dst, bias_ih, bias_hh, c_prev, c, h, y);
}

KF_TARGET __attribute__((always_inline)) static inline void kf_cell_backward_chunk(
    int H, int j, int n, const float *act, const float *c, const float *c_prev, const float *dy,
    const float *dh_rec, float *dc_state, float *dact) {
  const __m256 one = _mm256_set1_ps(1);
  const __m256 i = kf_load(act + j, n);
  const __m256 f = kf_load(act + H + j, n);
  const __m256 g = kf_load(act + 2 * H + j, n);
  const __m256 o = kf_load(act + 3 * H + j, n);
  const __m256 cp = c_prev ? kf_load(c_prev + j, n) : _mm256_setzero_ps();
  const __m256 tc = kf_tanh8(kf_load(c + j, n));
  const __m256 dh = _mm256_add_ps(kf_load(dy + j, n), kf_load(dh_rec + j, n));
  const __m256 dc =
      _mm256_add_ps(kf_load(dc_state + j, n),
                    _mm256_mul_ps(_mm256_mul_ps(dh, o), _mm256_sub_ps(one, _mm256_mul_ps(tc, tc))));
  kf_store(dc_state + j, _mm256_mul_ps(dc, f), n);
  kf_store(dact + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, g), i), _mm256_sub_ps(one, i)),
           n);
  kf_store(dact + H + j,
           _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dc, cp), f), _mm256_sub_ps(one, f)), n);
  kf_store(dact + 2 * H + j,
           _mm256_mul_ps(_mm256_mul_ps(dc, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g))), n);
  kf_store(dact + 3 * H + j,
           _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dh, tc), o), _mm256_sub_ps(one, o)), n);
}

KF_TARGET static void kf_lstm_cell_backward_avx2(int H, const float *act, const float *c,
                                                 const float *c_prev, const float *dy,
                                                 const float *dh_rec, float *dc_state,
                                                 float *dact) {
  int j = 0;
  for (; j + 8 <= H; j += 8)
    kf_cell_backward_chunk(H, j, 8, act, c, c_prev, dy, dh_rec, dc_state, dact);
  if (j < H) kf_cell_backward_chunk(H, j, H - j, act, c, c_prev, dy, dh_rec, dc_state, dact);
}

// The same cell sixteen lanes at a time (AVX-512; lanes are independent, so the same bits as
// the AVX2 code): where 512-bit operations are split in two (AMD Zen 4) the exp chain still ran
// 1.35x faster per float (fewer instructions), and masked loads make the tail free.
#define KF_T512 __attribute__((target("avx512f")))

KF_T512 static inline __m512 kf_exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.3f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-87.3f), x);
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  const __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504f), magic);
  const __m512 n = _mm512_sub_ps(shifted, magic);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.1219444e-4f), r);
  __m512 p = _mm512_set1_ps(1.98756915e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665796e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1));
  const __m512i e = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(127 - 0x4B400000)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

KF_T512 static inline __m512 kf_sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1);
  const __m512 neg = _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
  return _mm512_div_ps(one, _mm512_add_ps(one, kf_exp16(neg)));
}

KF_T512 static inline __m512 kf_tanh16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1);
  return _mm512_sub_ps(
      one, _mm512_div_ps(_mm512_set1_ps(2), _mm512_add_ps(kf_exp16(_mm512_add_ps(x, x)), one)));
}

KF_T512 static void kf_lstm_cell_forward_avx512(int H, const float *src, const float *rec,
                                                float *dst, const float *bias_ih,
                                                const float *bias_hh, const float *c_prev,
                                                float *c, float *h, float *y) {
  for (int j = 0; j < H; j += 16) {
    const __mmask16 k = (__mmask16)(H - j >= 16 ? 0xFFFFu : (1u << (H - j)) - 1u);
    __m512 pre[4];
    for (int q = 0; q < 4; q++) {
      const int o = q * H + j;
      __m512 v = _mm512_maskz_loadu_ps(k, src + o);
      if (rec) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, rec + o));
      pre[q] = _mm512_add_ps(_mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias_ih + o)),
                             _mm512_maskz_loadu_ps(k, bias_hh + o));
    }
    const __m512 i = kf_sigmoid16(pre[0]);
    const __m512 f = kf_sigmoid16(pre[1]);
    const __m512 g = kf_tanh16(pre[2]);
    const __m512 o = kf_sigmoid16(pre[3]);
    _mm512_mask_storeu_ps(dst + j, k, i);
    _mm512_mask_storeu_ps(dst + H + j, k, f);
    _mm512_mask_storeu_ps(dst + 2 * H + j, k, g);
    _mm512_mask_storeu_ps(dst + 3 * H + j, k, o);
    const __m512 cp = c_prev ? _mm512_maskz_loadu_ps(k, c_prev + j) : _mm512_setzero_ps();
    const __m512 cn = _mm512_add_ps(_mm512_mul_ps(f, cp), _mm512_mul_ps(i, g));
    const __m512 hn = _mm512_mul_ps(o, kf_tanh16(cn));
    _mm512_mask_storeu_ps(c + j, k, cn);
    if (h) _mm512_mask_storeu_ps(h + j, k, hn);
    _mm512_mask_storeu_ps(y + j, k, hn);
  }
}

KF_T512 static void kf_lstm_cell_backward_avx512(int H, const float *act, const float *c,
                                                 const float *c_prev, const float *dy,
                                                 const float *dh_rec, float *dc_state,
                                                 float *dact) {
  const __m512 one = _mm512_set1_ps(1);
  for (int j = 0; j < H; j += 16) {
    const __mmask16 k = (__mmask16)(H - j >= 16 ? 0xFFFFu : (1u << (H - j)) - 1u);
    const __m512 i = _mm512_maskz_loadu_ps(k, act + j);
    const __m512 f = _mm512_maskz_loadu_ps(k, act + H + j);
    const __m512 g = _mm512_maskz_loadu_ps(k, act + 2 * H + j);
    const __m512 o = _mm512_maskz_loadu_ps(k, act + 3 * H + j);
    const __m512 cp = c_prev ? _mm512_maskz_loadu_ps(k, c_prev + j) : _mm512_setzero_ps();
    const __m512 tc = kf_tanh16(_mm512_maskz_loadu_ps(k, c + j));
    const __m512 dh =
        _mm512_add_ps(_mm512_maskz_loadu_ps(k, dy + j), _mm512_maskz_loadu_ps(k, dh_rec + j));
    const __m512 dc = _mm512_add_ps(
        _mm512_maskz_loadu_ps(k, dc_state + j),
        _mm512_mul_ps(_mm512_mul_ps(dh, o), _mm512_sub_ps(one, _mm512_mul_ps(tc, tc))));
    _mm512_mask_storeu_ps(dc_state + j, k, _mm512_mul_ps(dc, f));
    _mm512_mask_storeu_ps(
        dact + j, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, g), i), _mm512_sub_ps(one, i)));
    _mm512_mask_storeu_ps(
        dact + H + j, k,
        _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, cp), f), _mm512_sub_ps(one, f)));
    _mm512_mask_storeu_ps(
        dact + 2 * H + j, k,
        _mm512_mul_ps(_mm512_mul_ps(dc, i), _mm512_sub_ps(one, _mm512_mul_ps(g, g))));
    _mm512_mask_storeu_ps(
        dact + 3 * H + j, k,
        _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dh, tc), o), _mm512_sub_ps(one, o)));
  }
}

// AVX-512 where the packed GEMM uses it (the CPU has it and KNEEFORCE_AVX512 is not 0: one
// detection for both kernels), unless a test asked for the AVX2 cell (kf_lstm_cell_use_avx512).
static int kf_cell_avx512_state = -1;

static int kf_cell_avx512(void) {
  if (kf_cell_avx512_state < 0) kf_cell_avx512_state = kf_gemm_packed_rows() == 8;
  return kf_cell_avx512_state;
}

int kf_lstm_cell_use_avx512(int on) {
  __builtin_cpu_init();
  kf_cell_avx512_state =
      on < 0 ? kf_gemm_packed_rows() == 8 : on && __builtin_cpu_supports("avx512f");
  return kf_cell_avx512_state;
}

// Streaming stores for the saved activations: the fused walk writes each step's gate rows
// (B rows of 4H floats, T*4H apart) that only the backward pass reads, much later. Plain
// stores fetch every line first (read for ownership) on a strided pattern the prefetchers
// do not follow: the saving walk ran at 21 ms where the non-saving one took 13 (reference
// sizes, one layer). Non-temporal stores skip the fetch and keep the cache for the step.
KF_T512 static void kf_stream_copy_avx512(float *dst, const float *src, int n) {
  for (int j = 0; j < n; j += 16) _mm512_stream_ps(dst + j, _mm512_loadu_ps(src + j));
}

KF_TARGET static void kf_stream_copy_avx2(float *dst, const float *src, int n) {
  for (int j = 0; j < n; j += 8) _mm256_stream_ps(dst + j, _mm256_loadu_ps(src + j));
}

// KNEEFORCE_STREAM_STORES=0 makes them plain copies, for A/B measurements.
static int kf_streaming(void) {
  static int cached = -1;
  if (cached < 0) {
    const char *off = getenv("KNEEFORCE_STREAM_STORES");
    cached = !(off && strcmp(off, "0") == 0);
  }
  return cached;
}

void kf_stream_copy(float *dst, const float *src, int n) {
  const uintptr_t at = (uintptr_t)dst;
  if (!kf_streaming()) {
    memcpy(dst, src, (size_t)n * sizeof(float));
  } else if (kf_cell_avx512() && at % 64 == 0 && n % 16 == 0) {
    kf_stream_copy_avx512(dst, src, n);
  } else if (kf_lstm_cell_vectorised() && at % 32 == 0 && n % 8 == 0) {
    kf_stream_copy_avx2(dst, src, n);
  } else {
    memcpy(dst, src, (size_t)n * sizeof(float));
  }
}

void kf_stream_fence(void) { _mm_sfence(); }

// The packed GEMM's AVX2/FMA detection: the cell needs the same two features.
int kf_lstm_cell_vectorised(void) { return kf_gemm_packed_vectorised(); }

KF_TARGET void kf_lstm_cell_forward(int hidden, float *gates, const float *rec,
                                    const float *bias_ih, const float *bias_hh,
                                    const float *c_prev, float *c, float *h, float *y) {
  if (kf_cell_avx512()) {
    kf_lstm_cell_forward_avx512(hidden, gates, rec, gates, bias_ih, bias_hh, c_prev, c, h, y);
    return;
  }
  kf_lstm_cell_forward_avx2(hidden, gates, rec, gates, bias_ih, bias_hh, c_prev, c, h, y);
}

KF_TARGET void kf_lstm_cell_forward_summed(int hidden, const float *pre, float *gates,
                                           const float *bias_ih, const float *bias_hh,
                                           const float *c_prev, float *c, float *h, float *y) {
  if (kf_cell_avx512()) {
    kf_lstm_cell_forward_avx512(hidden, pre, NULL, gates, bias_ih, bias_hh, c_prev, c, h, y);
    return;
  }
  kf_lstm_cell_forward_avx2(hidden, pre, NULL, gates, bias_ih, bias_hh, c_prev, c, h, y);
}

void kf_lstm_cell_backward(int hidden, const float *act, const float *c, const float *c_prev,
                           const float *dy, const float *dh_rec, float *dc_state, float *dact) {
  if (kf_cell_avx512()) {
    kf_lstm_cell_backward_avx512(hidden, act, c, c_prev, dy, dh_rec, dc_state, dact);
    return;
  }
  kf_lstm_cell_backward_avx2(hidden, act, c, c_prev, dy, dh_rec, dc_state, dact);
}

#else
#include <string.h>

int kf_lstm_cell_vectorised(void) { return 0; }

void kf_stream_copy(float *dst, const float *src, int n) {
  memcpy(dst, src, (size_t)n * sizeof(float));
}

void kf_stream_fence(void) {}

int kf_lstm_cell_use_avx512(int on) {
  (void)on;
  return 0;
}

void kf_lstm_cell_forward(int hidden, float *gates, const float *rec, const float *bias_ih,
                          const float *bias_hh, const float *c_prev, float *c, float *h,
                          float *y) {
  (void)hidden, (void)gates, (void)rec, (void)bias_ih, (void)bias_hh, (void)c_prev, (void)c,
      (void)h, (void)y;
}

void kf_lstm_cell_forward_summed(int hidden, const float *pre, float *gates,
                                 const float *bias_ih, const float *bias_hh, const float *c_prev,
                                 float *c, float *h, float *y) {
  (void)hidden, (void)pre, (void)gates, (void)bias_ih, (void)bias_hh, (void)c_prev, (void)c,
      (void)h, (void)y;
}

void kf_lstm_cell_backward(int hidden, const float *act, const float *c, const float *c_prev,
                           const float *dy, const float *dh_rec, float *dc_state, float *dact) {
  (void)hidden, (void)act, (void)c, (void)c_prev, (void)dy, (void)dh_rec, (void)dc_state,
      (void)dact;
}
#endif
