// One Adam/AdamW step with PyTorch's semantics over a flat parameter range, with global-norm
// gradient clipping folded in: the norm is read from the device (norm_sq[norm_off]), so the
// host never waits for it. step_size = lr / (1 - beta1^t) and sqrt_bc2 = sqrt(1 - beta2^t)
// are computed on the host in double. CPU twin: CPU/CPUBackend+Elementwise.swift (adam);
// the per-lane variant is lane_adam in lanes.cl.
// Global size: n.
__kernel void adam_step(const int n, __global float *p, __global const float *g,
                        __global float *m, __global float *v, const int p_off, const int g_off,
                        const int m_off, const int v_off, const float beta1, const float beta2,
                        const float eps, const float weight_decay, const int decoupled,
                        const float step_size, const float sqrt_bc2, const float decay,
                        const float max_norm, __global const float *norm_sq,
                        const int norm_off) {
  const int id = get_global_id(0);
  if (id >= n) return;
  float clip = 1.0f;
  if (max_norm > 0.0f) clip = fmin(1.0f, max_norm / (sqrt(norm_sq[norm_off]) + 1e-6f));
  kf_adam_update(p + p_off + id, m + m_off + id, v + v_off + id, g[g_off + id] * clip, beta1,
                 beta2, eps, weight_decay, decoupled, decay, step_size, sqrt_bc2);
}
