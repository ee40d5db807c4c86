// Dilated causal convolution as im2col + GEMM: this kernel gathers, CLBlast multiplies
// (col [N*T][C*K] x W^T, PyTorch's weight [out][in][k] read as [out][in*k]).
// CPU twin: Sources/KneeForceCompute/CPU/CPUBackend+Conv.swift (causalIm2col).
//
// col[n][t][c*K + k] = x[n][t - (K-1-k)*D][c], zero before t = 0: PyTorch's
// padding=(K-1)*D followed by cutting the last (K-1)*D outputs.
// Global size: N * T * C * K (N = models * batch).
__kernel void causal_conv_im2col(const int N, const int T, const int C, const int K,
                                 const int D, __global const float *x, __global float *col,
                                 const int x_off, const int col_off) {
  const int id = get_global_id(0);
  if (id >= N * T * C * K) return;
  const int k = id % K;
  const int c = (id / K) % C;
  const int t = (id / (K * C)) % T;
  const int n = id / (K * C * T);
  const int source = t - (K - 1 - k) * D;
  col[col_off + id] = source >= 0 ? x[x_off + (n * T + source) * C + c] : 0.0f;
}
