// Backward of the fused LSTM cell at step `s`, walked from s = T-1 down to 0.
// CPU twin: Sources/KneeForceCompute/CPU/CPUBackend+LSTM.swift (lstmGatesBackward).
//
//   gates   [groups][B][T][G]  activated gates saved by the forward kernel
//   cell    [groups][B][T][H]  c after each step
//   d_out   [models][B][T][2H] gradient of the layer output
//   dh_rec  [groups][B][H]     dGates_{s+1} W_hh from the previous backward GEMM (0 at T-1)
//   d_cell  [groups][B][H]     running dL/dc, carried from step s+1 to s (0 at T-1)
//   d_gates [groups][B][T][G]  gradient of the gate pre-activations; after the loop one GEMM
//                              each gives dW_ih, dW_hh and the input gradient.
//
// Aliasing: BidirectionalLSTM passes the same buffer (and offset) as `gates` and `d_gates`, so
// the gradients overwrite the activations in place. Both pointers are therefore declared
// writable and neither `const` nor `restrict`: the compiler must assume they alias. It is safe
// because each work-item reads its own four gate values before writing the same four
// positions, and no other work-item reads or writes them; the forward activations of step s
// are gone afterwards (a backward needs a fresh saving forward). LSTMKernelTests
// (testLSTMGatesBackwardInPlace) runs the walk both aliased and on separate buffers.
// Global size: groups * B * H.
__kernel void lstm_gates_backward(const int B, const int T, const int H, const int s,
                                  __global float *gates, __global const float *cell,
                                  __global const float *d_out, __global const float *dh_rec,
                                  __global float *d_cell, __global float *d_gates,
                                  const int gates_off, const int cell_off, const int d_out_off,
                                  const int dh_rec_off, const int d_cell_off,
                                  const int d_gates_off, const int groups) {
  const int id = get_global_id(0);
  if (id >= groups * B * H) return;
  const int j = id % H;
  const int b = (id / H) % B;
  const int g = id / (H * B);
  const int m = g / 2;
  const int d = g % 2;
  const int t = d == 0 ? s : T - 1 - s;
  const int G = 4 * H;

  __global float *act = gates + gates_off + ((g * B + b) * T + s) * G;
  __global float *dact = d_gates + d_gates_off + ((g * B + b) * T + s) * G;
  __global const float *c = cell + cell_off + ((g * B + b) * T + s) * H;
  const float i = act[j];
  const float f = act[H + j];
  const float gg = act[2 * H + j];
  const float o = act[3 * H + j];
  const float c_prev = s > 0 ? c[j - H] : 0.0f;
  const float tc = tanh(c[j]);
  const float dh = d_out[d_out_off + ((m * B + b) * T + t) * 2 * H + d * H + j] +
                   dh_rec[dh_rec_off + (g * B + b) * H + j];
  const int state = d_cell_off + (g * B + b) * H + j;
  const float dc = d_cell[state] + dh * o * (1.0f - tc * tc);
  d_cell[state] = dc * f;
  dact[j] = dc * gg * i * (1.0f - i);
  dact[H + j] = dc * c_prev * f * (1.0f - f);
  dact[2 * H + j] = dc * i * (1.0f - gg * gg);
  dact[3 * H + j] = dh * tc * o * (1.0f - o);
}
