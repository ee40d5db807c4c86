// Both directions of a bidirectional LSTM in step order, so one strided-batched GEMM
// projects them together. CPU twin: CPUBackend+LSTM.swift (bidirectionalInput/Gradient).

// xs[m][d][b][s][i] = x[m][b][d == 0 ? s : T-1-s][i]. Global size: models * 2 * B * T * W.
__kernel void bidirectional_input(const int models, const int B, const int T, const int W,
                                  __global const float *x, __global float *xs,
                                  const int x_off, const int xs_off) {
  const int id = get_global_id(0);
  if (id >= models * 2 * B * T * W) return;
  const int i = id % W;
  const int s = (id / W) % T;
  const int b = (id / (W * T)) % B;
  const int d = (id / (W * T * B)) % 2;
  const int m = id / (W * T * B * 2);
  const int t = d == 0 ? s : T - 1 - s;
  xs[xs_off + id] = x[x_off + ((m * B + b) * T + t) * W + i];
}

// dx[m][b][t] = dxs[m][0][b][t] + dxs[m][1][b][T-1-t]. Global size: models * B * T * W.
__kernel void bidirectional_gradient(const int models, const int B, const int T, const int W,
                                     __global const float *dxs, __global float *dx,
                                     const int dxs_off, const int dx_off) {
  const int id = get_global_id(0);
  if (id >= models * B * T * W) return;
  const int i = id % W;
  const int t = (id / W) % T;
  const int b = (id / (W * T)) % B;
  const int m = id / (W * T * B);
  const float f = dxs[dxs_off + (((m * 2) * B + b) * T + t) * W + i];
  const float r = dxs[dxs_off + (((m * 2 + 1) * B + b) * T + (T - 1 - t)) * W + i];
  dx[dx_off + id] = f + r;
}
