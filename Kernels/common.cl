// Helpers shared by every KneeForce kernel. The Swift twins live in
// Sources/KneeForceCompute/DropoutHash.swift and CPUBackend*.swift.

inline uint kf_hash(uint x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

inline bool kf_dropout_keeps(uint index, uint seed, float p) {
  uint h = kf_hash(index ^ kf_hash(seed));
  return (float)(h >> 8) * (1.0f / 16777216.0f) >= p;
}

inline float kf_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

// The sum of `value` over the work-group, valid in work-item 0.
inline float kf_local_sum(__local float *scratch, float value) {
  const int lid = get_local_id(0);
  scratch[lid] = value;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int width = get_local_size(0) / 2; width > 0; width /= 2) {
    if (lid < width) scratch[lid] += scratch[lid + width];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return scratch[0];
}

// One Adam/AdamW update of one parameter with PyTorch's semantics, the clip factor already
// applied to `grad`: shared by adam_step (adam.cl) and lane_adam (lanes.cl), whose CPU twins
// share CPUBackend's adam loop in the same way.
inline void kf_adam_update(__global float *p, __global float *m, __global float *v, float grad,
                           const float beta1, const float beta2, const float eps,
                           const float weight_decay, const int decoupled, const float decay,
                           const float step_size, const float sqrt_bc2) {
  float param = *p;
  if (decoupled) {
    param *= decay;
  } else {
    grad += weight_decay * param;
  }
  const float mi = beta1 * *m + (1.0f - beta1) * grad;
  const float vi = beta2 * *v + (1.0f - beta2) * grad * grad;
  *m = mi;
  *v = vi;
  *p = param - step_size * mi / (sqrt(vi) / sqrt_bc2 + eps);
}
