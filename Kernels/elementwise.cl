// Small elementwise kernels around the GEMMs. CPU twins: CPU/CPUBackend+Elementwise.swift.

// y[m][r][c] += bias[m][c]. Global size: models * rows * cols.
__kernel void add_bias(const int models, const int rows, const int cols, __global float *y,
                       __global const float *bias, const int y_off, const int bias_off) {
  const int id = get_global_id(0);
  if (id >= models * rows * cols) return;
  const int c = id % cols;
  const int m = id / (rows * cols);
  y[y_off + id] += bias[bias_off + m * cols + c];
}

// dbias[m][c] (+)= sum_r dy[m][r][c]. Global size: models * cols.
__kernel void sum_rows(const int models, const int rows, const int cols,
                       __global const float *dy, __global float *dbias, const int dy_off,
                       const int dbias_off, const int accumulate) {
  const int id = get_global_id(0);
  if (id >= models * cols) return;
  const int c = id % cols;
  const int m = id / cols;
  __global const float *p = dy + dy_off + m * rows * cols + c;
  float sum = 0.0f;
  for (int r = 0; r < rows; ++r) sum += p[r * cols];
  dbias[dbias_off + id] = accumulate ? dbias[dbias_off + id] + sum : sum;
}

// x = relu(x), then inverted dropout with the shared counter hash. Global size: n.
__kernel void relu_dropout_forward(const int n, __global float *x, const int x_off,
                                   const float p, const uint seed) {
  const int id = get_global_id(0);
  if (id >= n) return;
  const float v = fmax(x[x_off + id], 0.0f);
  if (p <= 0.0f) {
    x[x_off + id] = v;
  } else {
    x[x_off + id] = kf_dropout_keeps((uint)id, seed, p) ? v / (1.0f - p) : 0.0f;
  }
}

// dy *= (y > 0) / (1 - p): the output alone says which elements passed. Global size: n.
__kernel void relu_dropout_backward(const int n, __global float *dy, __global const float *y,
                                    const int dy_off, const int y_off, const float p) {
  const int id = get_global_id(0);
  if (id >= n) return;
  const float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
  dy[dy_off + id] = y[y_off + id] > 0.0f ? dy[dy_off + id] * scale : 0.0f;
}

// y += x. Global size: n.
__kernel void add_inplace(const int n, __global const float *x, __global float *y,
                          const int x_off, const int y_off) {
  const int id = get_global_id(0);
  if (id >= n) return;
  y[y_off + id] += x[x_off + id];
}
