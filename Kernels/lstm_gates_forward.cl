// Fused LSTM cell for one step `s` of every (model, direction, sequence, unit).
// CPU twin: Sources/KneeForceCompute/CPU/CPUBackend+LSTM.swift (lstmGatesForward).
//
// Layouts (g = model * 2 + direction, G = 4H, PyTorch gate order i, f, g, o):
//   gx     [groups][B][T][G]  input projections in step order; overwritten with the
//                             activated gates, which the backward pass needs
//   gh     [groups][B][G]     h_{s-1} W_hh^T from this step's GEMM
//   b_ih, b_hh [groups][G]
//   cell   [groups][B][T][H]  c after each step
//   hprev  [groups][B][T][H]  h before each step (row s+1 written here; row 0 stays 0),
//                             so the next GEMM reads it with a fixed leading dimension
//   output [models][B][T][2H] PyTorch's bidirectional output; the reverse direction's
//                             step s is time T-1-s
// Global size: groups * B * H.
__kernel void lstm_gates_forward(const int B, const int T, const int H, const int s,
                                 __global float *gx, __global const float *gh,
                                 __global const float *b_ih, __global const float *b_hh,
                                 __global float *cell, __global float *hprev,
                                 __global float *output, const int gx_off, const int gh_off,
                                 const int bias_ih_off, const int bias_hh_off,
                                 const int cell_off, const int hprev_off, const int out_off,
                                 const int groups) {
  const int id = get_global_id(0);
  if (id >= groups * B * H) return;
  const int j = id % H;
  const int b = (id / H) % B;
  const int g = id / (H * B);
  const int m = g / 2;
  const int d = g % 2;
  const int t = d == 0 ? s : T - 1 - s;
  const int G = 4 * H;

  __global float *gates = gx + gx_off + ((g * B + b) * T + s) * G;
  __global const float *rec = gh + gh_off + (g * B + b) * G;
  __global const float *bi = b_ih + bias_ih_off + g * G;
  __global const float *bh = b_hh + bias_hh_off + g * G;
  __global float *c = cell + cell_off + ((g * B + b) * T + s) * H;

  const float i = kf_sigmoid(gates[j] + rec[j] + bi[j] + bh[j]);
  const float f = kf_sigmoid(gates[H + j] + rec[H + j] + bi[H + j] + bh[H + j]);
  const float gg = tanh(gates[2 * H + j] + rec[2 * H + j] + bi[2 * H + j] + bh[2 * H + j]);
  const float o = kf_sigmoid(gates[3 * H + j] + rec[3 * H + j] + bi[3 * H + j] + bh[3 * H + j]);
  const float c_prev = s > 0 ? c[j - H] : 0.0f;
  const float c_new = f * c_prev + i * gg;
  const float h = o * tanh(c_new);

  gates[j] = i;
  gates[H + j] = f;
  gates[2 * H + j] = gg;
  gates[3 * H + j] = o;
  c[j] = c_new;
  if (s + 1 < T) hprev[hprev_off + ((g * B + b) * T + s + 1) * H + j] = h;
  output[out_off + ((m * B + b) * T + t) * 2 * H + d * H + j] = h;
}
