// Input gradient of the dilated causal convolution: the adjoint of causal_conv_im2col,
// written as a gather (one work-item per dx element) so no atomics are needed.
// The GEMMs around it give dcol = dy W and dW = dy^T col.
// CPU twin: Sources/KneeForceCompute/CPU/CPUBackend+Conv.swift (causalCol2im).
//
// dx[n][t][c] = sum_k dcol[n][t + (K-1-k)*D][c*K + k] over targets inside the sequence.
// Global size: N * T * C.
__kernel void causal_conv_col2im(const int N, const int T, const int C, const int K,
                                 const int D, __global const float *dcol, __global float *dx,
                                 const int dcol_off, const int dx_off) {
  const int id = get_global_id(0);
  if (id >= N * T * C) return;
  const int c = id % C;
  const int t = (id / C) % T;
  const int n = id / (C * T);
  float sum = 0.0f;
  for (int k = 0; k < K; ++k) {
    const int target = t + (K - 1 - k) * D;
    if (target < T) sum += dcol[dcol_off + ((n * T + target) * C + c) * K + k];
  }
  dx[dx_off + id] = sum;
}
