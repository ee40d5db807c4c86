// Two-stage reductions that leave their result on the device, so gradient clipping and the
// loss need no read-back inside a training step. Work-groups reduce in local memory to one
// partial each; finalize_sum adds the partials (kf_local_sum is in common.cl). CPU twins:
// CPU/CPUBackend+Elementwise.swift (sumSquares, mseLoss).

inline void kf_group_reduce(__local float *scratch, float value, __global float *partials) {
  const float total = kf_local_sum(scratch, value);
  if (get_local_id(0) == 0) partials[get_group_id(0)] = total;
}

// partials[group] = sum of x[i]^2 over the group's grid-stride share.
__kernel void sum_squares_partial(const int n, __global const float *x, const int x_off,
                                  __global float *partials, __local float *scratch) {
  float sum = 0.0f;
  for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
    const float v = x[x_off + i];
    sum += v * v;
  }
  kf_group_reduce(scratch, sum, partials);
}

// MSE: dy = 2 (y - t) / n, partials[group] = sum of (y - t)^2.
__kernel void mse_partial(const int n, __global const float *y, __global const float *t,
                          __global float *dy, const int y_off, const int t_off, const int dy_off,
                          __global float *partials, __local float *scratch) {
  float sum = 0.0f;
  const float scale = 2.0f / (float)n;
  for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
    const float diff = y[y_off + i] - t[t_off + i];
    dy[dy_off + i] = scale * diff;
    sum += diff * diff;
  }
  kf_group_reduce(scratch, sum, partials);
}

// out[0] = scale * sum(partials). One work-group.
__kernel void finalize_sum(const int parts, __global const float *partials,
                           __global float *out, const int out_off, const float scale,
                           __local float *scratch) {
  float sum = 0.0f;
  for (int i = get_local_id(0); i < parts; i += get_local_size(0)) sum += partials[i];
  const float total = kf_local_sum(scratch, sum);
  if (get_local_id(0) == 0) out[out_off] = total * scale;
}
