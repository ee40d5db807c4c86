// The fp32 peak of one core as measured: twelve independent AVX2 FMA chains (enough to cover
// the FMA latency on every x86 core since Haswell) for about `seconds`, the fastest burst.
// `kneeforce bench` runs it on each of its threads at once and quotes "of peak" against the
// sum, because the clock in /proc/cpuinfo is often the nominal one (on the development VM
// 2.45 GHz, while the cores ran FMAs at ~3.7 GHz: a peak a third too low).
#include "CKneeForce.h"

#include <time.h>

static double kf_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define KF_FMA(v) v = _mm256_fmadd_ps(v, m, a)

__attribute__((target("avx2,fma"))) static double kf_fma_rate_avx2(double seconds) {
  const __m256 m = _mm256_set1_ps(0.5f), a = _mm256_set1_ps(0.5f);
  __m256 v0 = m, v1 = m, v2 = m, v3 = m, v4 = m, v5 = m;
  __m256 v6 = m, v7 = m, v8 = m, v9 = m, v10 = m, v11 = m;
  // Bursts of ~2 ms, the fastest one counts: on a shared VM a burst that loses the core to a
  // neighbour measures the neighbour, not the core (whole-interval rates moved 117-221 GFLOP/s
  // for two threads on the development VM, the fastest bursts by a few percent).
  const long chunk = 1 << 17;
  double best = 0;
  const double start = kf_now();
  double last = start;
  do {
    for (long r = 0; r < chunk; r++) {
      // The empty asm makes each chain opaque, so the compiler can neither merge the twelve
      // identical chains nor fold the loop.
      __asm__ volatile(""
                       : "+x"(v0), "+x"(v1), "+x"(v2), "+x"(v3), "+x"(v4), "+x"(v5), "+x"(v6),
                         "+x"(v7), "+x"(v8), "+x"(v9), "+x"(v10), "+x"(v11));
      KF_FMA(v0); KF_FMA(v1); KF_FMA(v2); KF_FMA(v3); KF_FMA(v4); KF_FMA(v5);
      KF_FMA(v6); KF_FMA(v7); KF_FMA(v8); KF_FMA(v9); KF_FMA(v10); KF_FMA(v11);
    }
    const double t = kf_now();
    const double rate = (double)chunk * 12 * 16 / (t - last) / 1e9;
    if (rate > best) best = rate;
    last = t;
  } while (last - start < seconds);
  volatile float sink = _mm256_cvtss_f32(v0) + _mm256_cvtss_f32(v11);
  (void)sink;
  return best;
}
#undef KF_FMA
#endif

double kf_fma_peak_gflops(double seconds) {
#if defined(__x86_64__)
  if (kf_gemm_packed_vectorised()) return kf_fma_rate_avx2(seconds);
#endif
  (void)seconds;
  (void)kf_now;
  return 0;
}
