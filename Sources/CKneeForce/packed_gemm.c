// A small GEMM whose right-hand operand is packed once and reused: the LSTM's recurrent
// products (h_{s-1} W_hh^T forward, dGates_s W_hh backward) multiply the same W_hh at each of
// the T steps, and BLAS repacks it on every call. See CKneeForce.h for the contract.
#include "CKneeForce.h"

#include <stdlib.h>
#include <string.h>

#define KF_NR 16
#define KF_MR 6

size_t kf_packed_floats(int k, int n) { return (size_t)((n + KF_NR - 1) / KF_NR) * KF_NR * k; }

void kf_pack_b(const float *b, int ldb, int trans_b, int k, int n, float *packed) {
  const int panels = (n + KF_NR - 1) / KF_NR;
  for (int p = 0; p < panels; p++) {
    float *panel = packed + (size_t)p * k * KF_NR;
    for (int kk = 0; kk < k; kk++) {
      for (int c = 0; c < KF_NR; c++) {
        const int col = p * KF_NR + c;
        panel[kk * KF_NR + c] =
            col < n ? (trans_b ? b[(size_t)col * ldb + kk] : b[(size_t)kk * ldb + col]) : 0.0f;
      }
    }
  }
}

// Writes (or adds) the valid rows x cols of a KF_MR x KF_NR tile.
static inline void kf_store_tile(const float *tile, int rows, int cols, float *c, int ldc,
                                 int accumulate) {
  for (int i = 0; i < rows; i++) {
    float *row = c + (size_t)i * ldc;
    if (accumulate) {
      for (int j = 0; j < cols; j++) row[j] += tile[i * KF_NR + j];
    } else {
      memcpy(row, tile + i * KF_NR, (size_t)cols * sizeof(float));
    }
  }
}

// C = A1 op(B1) + A2 op(B2): a second segment (k2 > 0) continues the sum over the inner
// dimension, as if [A1 A2] multiplied [op(B1); op(B2)] packed as one.
static void kf_gemm_packed2_scalar(int m, int n, int k1, const float *a1, int lda1,
                                   const float *packed1, int k2, const float *a2, int lda2,
                                   const float *packed2, float *c, int ldc, int accumulate) {
  float tile[KF_MR * KF_NR];
  for (int i0 = 0; i0 < m; i0 += KF_MR) {
    const int rows = m - i0 < KF_MR ? m - i0 : KF_MR;
    for (int p = 0; p * KF_NR < n; p++) {
      const int cols = n - p * KF_NR < KF_NR ? n - p * KF_NR : KF_NR;
      const float *panel1 = packed1 + (size_t)p * k1 * KF_NR;
      const float *panel2 = k2 > 0 ? packed2 + (size_t)p * k2 * KF_NR : NULL;
      memset(tile, 0, sizeof(tile));
      for (int i = 0; i < rows; i++) {
        const float *ai = a1 + (size_t)(i0 + i) * lda1;
        for (int kk = 0; kk < k1; kk++) {
          for (int j = 0; j < KF_NR; j++) tile[i * KF_NR + j] += ai[kk] * panel1[kk * KF_NR + j];
        }
        if (k2 > 0) {
          const float *bi = a2 + (size_t)(i0 + i) * lda2;
          for (int kk = 0; kk < k2; kk++) {
            for (int j = 0; j < KF_NR; j++) tile[i * KF_NR + j] += bi[kk] * panel2[kk * KF_NR + j];
          }
        }
      }
      kf_store_tile(tile, rows, cols, c + (size_t)i0 * ldc + p * KF_NR, ldc, accumulate);
    }
  }
}

#if defined(__x86_64__)
#include <immintrin.h>

// 6 x 16 register tile: 12 accumulators, two 8-float loads of the packed panel and six
// broadcasts of A per k (the classic Haswell shape). Rows past `rows` read row 0 again (their
// results are dropped), so the inner loop has no branches.
// One segment of the inner dimension: `len` steps of the 6 x 16 tile over rows r0..r5 of A
// and the panel bp.
#define KF_TILE_SEGMENT(len, bp, r0, r1, r2, r3, r4, r5)  \
  for (int kk = 0; kk < (len); kk++) {                     \
    const __m256 b0 = _mm256_loadu_ps((bp) + kk * KF_NR);     \
    const __m256 b1 = _mm256_loadu_ps((bp) + kk * KF_NR + 8); \
    __m256 x = _mm256_broadcast_ss((r0) + kk);             \
    c00 = _mm256_fmadd_ps(x, b0, c00);                     \
    c01 = _mm256_fmadd_ps(x, b1, c01);                     \
    x = _mm256_broadcast_ss((r1) + kk);                    \
    c10 = _mm256_fmadd_ps(x, b0, c10);                     \
    c11 = _mm256_fmadd_ps(x, b1, c11);                     \
    x = _mm256_broadcast_ss((r2) + kk);                    \
    c20 = _mm256_fmadd_ps(x, b0, c20);                     \
    c21 = _mm256_fmadd_ps(x, b1, c21);                     \
    x = _mm256_broadcast_ss((r3) + kk);                    \
    c30 = _mm256_fmadd_ps(x, b0, c30);                     \
    c31 = _mm256_fmadd_ps(x, b1, c31);                     \
    x = _mm256_broadcast_ss((r4) + kk);                    \
    c40 = _mm256_fmadd_ps(x, b0, c40);                     \
    c41 = _mm256_fmadd_ps(x, b1, c41);                     \
    x = _mm256_broadcast_ss((r5) + kk);                    \
    c50 = _mm256_fmadd_ps(x, b0, c50);                     \
    c51 = _mm256_fmadd_ps(x, b1, c51);                     \
  }

// Inlined into both callers below, so the one-segment kernel (k2 = 0, a constant there)
// compiles without the second segment's pointers: kept apart, it ran ~10 % slower.
__attribute__((target("avx2,fma"), always_inline)) static inline void kf_gemm_tiles_avx2(
    int m, int n, int k1, const float *a, int lda, const float *packed, int k2,
    const float *a2nd, int lda2, const float *packed2, float *c, int ldc, int accumulate) {
  for (int i0 = 0; i0 < m; i0 += KF_MR) {
    const int rows = m - i0 < KF_MR ? m - i0 : KF_MR;
    const float *r[KF_MR], *q[KF_MR];
    for (int i = 0; i < KF_MR; i++) {
      r[i] = a + (size_t)(i0 + (i < rows ? i : 0)) * lda;
      q[i] = k2 > 0 ? a2nd + (size_t)(i0 + (i < rows ? i : 0)) * lda2 : NULL;
    }
    const float *a0 = r[0], *a1 = r[1], *a2 = r[2], *a3 = r[3], *a4 = r[4], *a5 = r[5];
    for (int p = 0; p * KF_NR < n; p++) {
      const int cols = n - p * KF_NR < KF_NR ? n - p * KF_NR : KF_NR;
      const float *bp = packed + (size_t)p * k1 * KF_NR;
      __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
      __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
      __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
      __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
      __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
      __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
      KF_TILE_SEGMENT(k1, bp, a0, a1, a2, a3, a4, a5)
      if (k2 > 0) {
        const float *bq = packed2 + (size_t)p * k2 * KF_NR;
        const float *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3], *q4 = q[4], *q5 = q[5];
        KF_TILE_SEGMENT(k2, bq, q0, q1, q2, q3, q4, q5)
      }
      float *out = c + (size_t)i0 * ldc + p * KF_NR;
      if (cols == KF_NR) {
        const __m256 acc[KF_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                      {c30, c31}, {c40, c41}, {c50, c51}};
        for (int i = 0; i < rows; i++) {
          float *row = out + (size_t)i * ldc;
          __m256 v0 = acc[i][0], v1 = acc[i][1];
          if (accumulate) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
          }
          _mm256_storeu_ps(row, v0);
          _mm256_storeu_ps(row + 8, v1);
        }
      } else {
        float tile[KF_MR * KF_NR];
        _mm256_storeu_ps(tile + 0, c00);
        _mm256_storeu_ps(tile + 8, c01);
        _mm256_storeu_ps(tile + 16, c10);
        _mm256_storeu_ps(tile + 24, c11);
        _mm256_storeu_ps(tile + 32, c20);
        _mm256_storeu_ps(tile + 40, c21);
        _mm256_storeu_ps(tile + 48, c30);
        _mm256_storeu_ps(tile + 56, c31);
        _mm256_storeu_ps(tile + 64, c40);
        _mm256_storeu_ps(tile + 72, c41);
        _mm256_storeu_ps(tile + 80, c50);
        _mm256_storeu_ps(tile + 88, c51);
        kf_store_tile(tile, rows, cols, out, ldc, accumulate);
      }
    }
  }
}

// AVX-512: 8 x 32 tiles over two adjacent 16-column panels (the same packed layout), 16 zmm
// accumulators, per k two 16-float loads and eight broadcasts for sixteen FMAs (the AVX2 tile
// needs eight loads for twelve ymm FMAs). Each element is the same sequential FMA chain over
// k as in the AVX2 tile, so both give the same bits. On cores that split 512-bit operations
// in two (AMD Zen 4) the FLOP rate is the same; the gain is fewer instructions and loads
// per FMA, and 8-row tiles fit the batch sizes (32, 64) without partial tiles.
#define KF_MR512 8

#define KF_TILE512_SEGMENT(len, bp, bq, r)            \
  for (int kk = 0; kk < (len); kk++) {                \
    const __m512 b0 = _mm512_loadu_ps((bp) + kk * KF_NR); \
    const __m512 b1 = _mm512_loadu_ps((bq) + kk * KF_NR); \
    for (int i = 0; i < KF_MR512; i++) {              \
      const __m512 x = _mm512_set1_ps((r)[i][kk]);    \
      acc0[i] = _mm512_fmadd_ps(x, b0, acc0[i]);      \
      acc1[i] = _mm512_fmadd_ps(x, b1, acc1[i]);      \
    }                                                 \
  }

__attribute__((target("avx512f"), always_inline)) static inline void kf_gemm_tiles_avx512(
    int m, int n, int k1, const float *a, int lda, const float *packed, int k2,
    const float *a2nd, int lda2, const float *packed2, float *c, int ldc, int accumulate) {
  const int panels = (n + KF_NR - 1) / KF_NR;
  for (int i0 = 0; i0 < m; i0 += KF_MR512) {
    const int rows = m - i0 < KF_MR512 ? m - i0 : KF_MR512;
    const float *r[KF_MR512], *q[KF_MR512];
    for (int i = 0; i < KF_MR512; i++) {
      r[i] = a + (size_t)(i0 + (i < rows ? i : 0)) * lda;
      q[i] = k2 > 0 ? a2nd + (size_t)(i0 + (i < rows ? i : 0)) * lda2 : NULL;
    }
    for (int p = 0; p < panels; p += 2) {
      // A lone last panel runs as a 32-wide tile whose second half reads the first panel
      // again and is never stored.
      const int pair = p + 1 < panels;
      const float *bp = packed + (size_t)p * k1 * KF_NR;
      const float *bq = pair ? bp + (size_t)k1 * KF_NR : bp;
      __m512 acc0[KF_MR512], acc1[KF_MR512];
      for (int i = 0; i < KF_MR512; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
      KF_TILE512_SEGMENT(k1, bp, bq, r)
      if (k2 > 0) {
        const float *cp = packed2 + (size_t)p * k2 * KF_NR;
        const float *cq = pair ? cp + (size_t)k2 * KF_NR : cp;
        KF_TILE512_SEGMENT(k2, cp, cq, q)
      }
      const int cols0 = n - p * KF_NR < KF_NR ? n - p * KF_NR : KF_NR;
      const int cols1 = !pair ? 0 : (n - (p + 1) * KF_NR < KF_NR ? n - (p + 1) * KF_NR : KF_NR);
      const __mmask16 m0 = (__mmask16)((1u << cols0) - 1u);
      const __mmask16 m1 = (__mmask16)((1u << cols1) - 1u);
      float *out = c + (size_t)i0 * ldc + p * KF_NR;
      for (int i = 0; i < rows; i++) {
        float *row = out + (size_t)i * ldc;
        __m512 v0 = acc0[i], v1 = acc1[i];
        if (accumulate) {
          v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
          if (cols1) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + KF_NR));
        }
        _mm512_mask_storeu_ps(row, m0, v0);
        if (cols1) _mm512_mask_storeu_ps(row + KF_NR, m1, v1);
      }
    }
  }
}
#undef KF_TILE512_SEGMENT

__attribute__((target("avx512f"))) static void kf_gemm_packed_avx512(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    int accumulate) {
  kf_gemm_tiles_avx512(m, n, k, a, lda, packed, 0, NULL, 0, NULL, c, ldc, accumulate);
}

__attribute__((target("avx512f"))) static void kf_gemm_packed2_avx512(
    int m, int n, int k1, const float *a1, int lda1, const float *packed1, int k2,
    const float *a2, int lda2, const float *packed2, float *c, int ldc, int accumulate) {
  kf_gemm_tiles_avx512(m, n, k1, a1, lda1, packed1, k2, a2, lda2, packed2, c, ldc, accumulate);
}

// AVX-512 where the CPU has it, unless KNEEFORCE_AVX512=0 (for A/B measurements).
static int kf_has_avx512(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    const char *off = getenv("KNEEFORCE_AVX512");
    cached = __builtin_cpu_supports("avx512f") && !(off && strcmp(off, "0") == 0);
  }
  return cached;
}

static int kf_has_avx2_fma(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return cached;
}
#endif

#undef KF_TILE_SEGMENT

__attribute__((target("avx2,fma"))) static void kf_gemm_packed_avx2(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    int accumulate) {
  kf_gemm_tiles_avx2(m, n, k, a, lda, packed, 0, NULL, 0, NULL, c, ldc, accumulate);
}

__attribute__((target("avx2,fma"))) static void kf_gemm_packed2_avx2(
    int m, int n, int k1, const float *a1, int lda1, const float *packed1, int k2,
    const float *a2, int lda2, const float *packed2, float *c, int ldc, int accumulate) {
  kf_gemm_tiles_avx2(m, n, k1, a1, lda1, packed1, k2, a2, lda2, packed2, c, ldc, accumulate);
}
int kf_gemm_packed_rows(void) {
#if defined(__x86_64__)
  if (kf_has_avx512()) return KF_MR512;
#endif
  return KF_MR;
}

int kf_gemm_packed_vectorised(void) {
#if defined(__x86_64__)
  return kf_has_avx2_fma();
#else
  return 0;
#endif
}

void kf_gemm_packed(int m, int n, int k, const float *a, int lda, const float *packed, float *c,
                    int ldc, int accumulate, int force_scalar) {
  if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
  if (force_scalar == 0 && kf_has_avx512()) {
    kf_gemm_packed_avx512(m, n, k, a, lda, packed, c, ldc, accumulate);
    return;
  }
  if (force_scalar != 1 && kf_has_avx2_fma()) {
    kf_gemm_packed_avx2(m, n, k, a, lda, packed, c, ldc, accumulate);
    return;
  }
#endif
  kf_gemm_packed2_scalar(m, n, k, a, lda, packed, 0, NULL, 0, NULL, c, ldc, accumulate);
}

void kf_gemm_packed2(int m, int n, int k1, const float *a1, int lda1, const float *packed1,
                     int k2, const float *a2, int lda2, const float *packed2, float *c, int ldc,
                     int accumulate, int force_scalar) {
  if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
  if (force_scalar == 0 && kf_has_avx512()) {
    kf_gemm_packed2_avx512(m, n, k1, a1, lda1, packed1, k2, a2, lda2, packed2, c, ldc,
                           accumulate);
    return;
  }
  if (force_scalar != 1 && kf_has_avx2_fma()) {
    kf_gemm_packed2_avx2(m, n, k1, a1, lda1, packed1, k2, a2, lda2, packed2, c, ldc, accumulate);
    return;
  }
#endif
  (void)force_scalar;
  kf_gemm_packed2_scalar(m, n, k1, a1, lda1, packed1, k2, a2, lda2, packed2, c, ldc, accumulate);
}
