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
