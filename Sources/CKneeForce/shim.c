#include "CKneeForce.h"

// OpenBLAS exports these; cblas.h of other BLAS libraries does not declare them.
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern void openblas_set_num_threads(int);

int kf_blas_threads(void) { return openblas_get_num_threads(); }
const char *kf_blas_config(void) { return openblas_get_config(); }
void kf_blas_set_threads(int n) { openblas_set_num_threads(n); }
