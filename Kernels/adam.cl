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
  float grad = g[g_off + id] * clip;
  float param = p[p_off + id];
  if (decoupled) {
    param *= decay;
  } else {
    grad += weight_decay * param;
  }
  const float mi = beta1 * m[m_off + id] + (1.0f - beta1) * grad;
  const float vi = beta2 * v[v_off + id] + (1.0f - beta2) * grad * grad;
  m[m_off + id] = mi;
  v[v_off + id] = vi;
  p[p_off + id] = param - step_size * mi / (sqrt(vi) / sqrt_bc2 + eps);
}
