#ifndef CKNEEFORCE_H
#define CKNEEFORCE_H

// One header for everything Swift needs from C: OpenCL 1.2, CLBlast's C API and CBLAS.
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <clblast_c.h>
#include <cblas.h>

/// OpenBLAS's own queries, declared here so Swift can report the CPU backend honestly.
int kf_blas_threads(void);
const char *kf_blas_config(void);
void kf_blas_set_threads(int n);

#endif
