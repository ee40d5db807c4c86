// Per-lane operations for models trained in lockstep (fold x seed members of one sweep
// group): one launch serves every lane, and each lane's result depends on its own data
// alone, with a fixed blocking, so a lane trained among others is bitwise the lane alone.
// CPU twins: Sources/KneeForceCompute/CPU/CPUBackend+Lanes.swift.
// Index arithmetic that can pass 2^31 (store offsets, whole-batch element ids) is 64-bit.

// The dropout seed of one site for a lane's step key (Swift twin: laneDropoutSeed).
inline uint kf_lane_site_seed(uint key, uint site) { return kf_hash(key + site * 0x9E3779B9U); }

// Augmentation draws (Swift twins in Sources/KneeForceCompute/Augmentation.swift): a row
// seed per (lane key, draw, row), then a uniform in [0, 1) per (seed, index), and the
// centred sum of four of them.
inline uint kf_aug_row_seed(uint key, uint draw, uint row) {
  return kf_hash(kf_hash(key ^ (draw * 0x9E3779B9U)) ^ row);
}

inline float kf_aug_uniform(uint seed, uint index) {
  return (float)(kf_hash(seed ^ index) >> 8) * (1.0f / 16777216.0f);
}

inline float kf_aug_normal(uint seed, uint index) {
  float sum = 0.0f;
  for (uint k = 0; k < 4; k++) sum += kf_aug_uniform(seed, index * 4 + k);
  return (sum - 2.0f) * 1.7320508f;
}

// The warped source step of step t (Swift twin: augmentationWarp).
inline float kf_aug_warp(int t, int T, float w) {
  if (T <= 1) return 0.0f;
  const float last = (float)(T - 1);
  const float u = (float)t / last;
  const float warped = u + w * (sin(M_PI_F * fmin(u, 1.0f - u)) / M_PI_F);
  return fmin(fmax(warped, 0.0f), 1.0f) * last;
}

// One batch per lane from a store of raw sequences, inputs [N][T][C] and targets [N][T][O]:
//   x[m][b][t][c] = (inputs[idx[m][b]][t][channels[c]] - mean[m][c]) * scale[m][c]
//   y[m][b][t][o] = targets[idx[m][b]][t][o] - bases[lane_bases[m]][idx[m][b]][t][o]
//   mask[m][b]    = idx[m][b] >= 0
// idx < 0 marks a padded row: zeros and mask 0. idx and channels are words (int, uint).
// With tables 0, or lane_bases[m] < 0, no base is subtracted (bases [tables][N][T][O];
// a table past the last is clamped to it, so a bad word cannot read past the buffer).
// With augment 1, lane m's rows are perturbed under aug_keys[m] as the Swift type
// Augmentation describes (time warp of inputs and residual targets, then gain, offset and
// noise on x). Global size: K * B * T * (S + O).
__kernel void gather_sequences(
    const int K, const int B, const int T, const int C, const int S, const int O,
    __global const float *inputs, __global const float *targets, __global const int *idx,
    __global const uint *channels, __global const float *mean, __global const float *scale,
    __global float *x, __global float *y, __global float *mask, const long in_off,
    const long tg_off, const int idx_off, const int ch_off, const int mean_off,
    const int scale_off, const long x_off, const long y_off, const int mask_off,
    const int tables, const int N, __global const float *bases, const long bases_off,
    __global const int *lane_bases, const int lane_bases_off, const int augment,
    __global const uint *aug_keys, const int keys_off, const float noise, const float offset,
    const float gain, const float warp) {
  const long id = get_global_id(0);
  const long W = S + O;
  if (id >= (long)K * B * T * W) return;
  const int c = (int)(id % W);
  const long r = id / W;
  const int t = (int)(r % T);
  const long mb = r / T;
  const int m = (int)(mb / B);
  const uint b = (uint)(mb % B);
  const int seq = idx[idx_off + mb];
  const uint key = augment ? aug_keys[keys_off + m] : 0U;
  const bool warping = augment && warp > 0.0f;
  int i0 = t;
  int i1 = t;
  float f = 0.0f;
  if (warping) {
    const float w = warp * (2.0f * kf_aug_uniform(kf_aug_row_seed(key, 1U, b), 0U) - 1.0f);
    const float p = kf_aug_warp(t, T, w);
    i0 = (int)p;
    i1 = min(i0 + 1, T - 1);
    f = p - (float)i0;
  }
  if (c < S) {
    float v = 0.0f;
    if (seq >= 0) {
      const long source = in_off + (long)seq * T * C + channels[ch_off + c];
      float raw = inputs[source + (long)i0 * C];
      if (warping) raw = raw + f * (inputs[source + (long)i1 * C] - raw);
      v = (raw - mean[mean_off + m * S + c]) * scale[scale_off + m * S + c];
      if (augment) {
        const float g = exp(gain * kf_aug_normal(kf_aug_row_seed(key, 2U, b), (uint)c));
        const float o = offset * kf_aug_normal(kf_aug_row_seed(key, 3U, b), (uint)c);
        v = v * g + o + noise * kf_aug_normal(kf_aug_row_seed(key, 4U, b), (uint)(t * S + c));
      }
    }
    x[x_off + (mb * T + t) * S + c] = v;
  } else {
    const int o = c - S;
    float v = 0.0f;
    if (seq >= 0) {
      const long target = tg_off + (long)seq * T * O + o;
      const int table = tables > 0 ? min(lane_bases[lane_bases_off + m], tables - 1) : -1;
      const long base = bases_off + ((long)max(table, 0) * N + seq) * T * O + o;
      v = targets[target + (long)i0 * O];
      if (table >= 0) v -= bases[base + (long)i0 * O];
      if (warping) {
        float v1 = targets[target + (long)i1 * O];
        if (table >= 0) v1 -= bases[base + (long)i1 * O];
        v = v + f * (v1 - v);
      }
    }
    y[y_off + (mb * T + t) * O + o] = v;
  }
  if (t == 0 && c == 0) mask[mask_off + mb] = seq >= 0 ? 1.0f : 0.0f;
}

// relu, then inverted dropout keyed by (keys[m], site, lane-local index) for K lanes of n
// floats. Global size: K * n.
__kernel void lane_relu_dropout_forward(const int K, const long n, __global float *x,
                                        const long x_off, const float p,
                                        __global const uint *keys, const int keys_off,
                                        const uint site) {
  const long id = get_global_id(0);
  if (id >= (long)K * n) return;
  const float v = fmax(x[x_off + id], 0.0f);
  if (p <= 0.0f) {
    x[x_off + id] = v;
    return;
  }
  const int m = (int)(id / n);
  const uint local_index = (uint)(id - (long)m * n);
  const uint seed = kf_lane_site_seed(keys[keys_off + m], site);
  x[x_off + id] = kf_dropout_keeps(local_index, seed, p) ? v * (1.0f / (1.0f - p)) : 0.0f;
}

// Per-lane masked MSE, one work-group per lane: n = rows * width values per lane,
// dy = mask * 2 (y - t) / count_m, loss[m] = sum of (mask (y - t))^2, with count_m =
// lane_steps[m * 4] (0: the lane sits out, dy = 0 and loss 0).
// Global size: K * local size.
__kernel void lane_mse(const int rows, const int width, __global const float *y,
                       __global const float *t, __global const float *mask,
                       __global const float *lane_steps, __global float *dy,
                       __global float *loss, const long y_off, const long t_off,
                       const int mask_off, const int steps_off, const long dy_off,
                       const int loss_off, __local float *scratch) {
  const int m = get_group_id(0);
  const long n = (long)rows * width;
  const long base = (long)m * n;
  const float count = lane_steps[steps_off + m * 4];
  const float scale = count > 0.0f ? 2.0f / count : 0.0f;
  float sum = 0.0f;
  for (long i = get_local_id(0); i < n; i += get_local_size(0)) {
    const float keep = count > 0.0f ? mask[mask_off + m * rows + (int)(i / width)] : 0.0f;
    const float diff = (y[y_off + base + i] - t[t_off + base + i]) * keep;
    dy[dy_off + base + i] = scale * diff;
    sum += diff * diff;
  }
  const float total = kf_local_sum(scratch, sum);
  if (get_local_id(0) == 0) loss[loss_off + m] = total;
}

// partials[d] = sum of x[start_d + i]^2 over chunk d = (start, length) of the word table
// chunks[d][2]; one work-group per chunk. Global size: chunks * local size.
__kernel void lane_sum_squares_partial(__global const float *x, const long x_off,
                                       __global const uint *chunks, const int chunks_off,
                                       __global float *partials, const int partials_off,
                                       __local float *scratch) {
  const int d = get_group_id(0);
  const long start = chunks[chunks_off + 2 * d];
  const int length = (int)chunks[chunks_off + 2 * d + 1];
  float sum = 0.0f;
  for (int i = get_local_id(0); i < length; i += get_local_size(0)) {
    const float v = x[x_off + start + i];
    sum += v * v;
  }
  const float total = kf_local_sum(scratch, sum);
  if (get_local_id(0) == 0) partials[partials_off + d] = total;
}

// norms[m] = sum of lane m's `per_lane` partials; one work-group per lane.
// Global size: K * local size.
__kernel void lane_finalize_sum(const int per_lane, __global const float *partials,
                                const int partials_off, __global float *norms,
                                const int norms_off, __local float *scratch) {
  const int m = get_group_id(0);
  float sum = 0.0f;
  for (int i = get_local_id(0); i < per_lane; i += get_local_size(0)) {
    sum += partials[partials_off + m * per_lane + i];
  }
  const float total = kf_local_sum(scratch, sum);
  if (get_local_id(0) == 0) norms[norms_off + m] = total;
}

// Adam/AdamW over the parameters of every lane at once, as adam_step but with each
// parameter's lane (word table lanes[i]) choosing its clip factor (from norms[lane]), its
// step size and bias correction (lane_steps[lane] = count, step_size, sqrt_bc2, active);
// an inactive lane keeps its parameters and moments. Lanes are clamped to K - 1, so a bad
// table cannot read past the per-lane buffers. Global size: n.
__kernel void lane_adam(const long n, const int K, __global float *p, __global const float *g,
                        __global float *m, __global float *v, const long p_off,
                        const long g_off, const long m_off, const long v_off,
                        __global const uint *lanes, const long lanes_off,
                        __global const float *lane_steps, const int steps_off,
                        __global const float *norms, const int norms_off, const float beta1,
                        const float beta2, const float eps, const float weight_decay,
                        const int decoupled, const float decay, const float max_norm) {
  const long id = get_global_id(0);
  if (id >= n) return;
  const uint lane = min(lanes[lanes_off + id], (uint)(K - 1));
  __global const float *s = lane_steps + steps_off + lane * 4;
  if (s[3] == 0.0f) return;
  float clip = 1.0f;
  if (max_norm > 0.0f) clip = fmin(1.0f, max_norm / (sqrt(norms[norms_off + lane]) + 1e-6f));
  kf_adam_update(p + p_off + id, m + m_off + id, v + v_off + id, g[g_off + id] * clip, beta1,
                 beta2, eps, weight_decay, decoupled, decay, s[1], s[2]);
}
