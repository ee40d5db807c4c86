#include "CKneeForce.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

// OpenBLAS exports these; cblas.h of other BLAS libraries does not declare them.
extern char *openblas_get_config(void);
extern void openblas_set_num_threads(int);

const char *kf_blas_config(void) { return openblas_get_config(); }
void kf_blas_set_threads(int n) { openblas_set_num_threads(n); }

// One pointer per entry point, each typed from the library's own header declaration, so a
// trampoline whose parameter list disagrees with the header does not compile.
#define KF_POINTER(ret, name, params, args) static __typeof__(&name) kf_p_##name;
KF_OPENCL_FUNCTIONS(KF_POINTER)
KF_CLBLAST_FUNCTIONS(KF_POINTER)
#undef KF_POINTER

#define KF_TRAMPOLINE(ret, name, params, args)                                                 \
  ret kf_##name params { return kf_p_##name args; }
KF_OPENCL_FUNCTIONS(KF_TRAMPOLINE)
KF_CLBLAST_FUNCTIONS(KF_TRAMPOLINE)
#undef KF_TRAMPOLINE

// Opens the library named by `variable`, else the first of `defaults` that opens.
// RTLD_GLOBAL so that CLBlast, which links libOpenCL.so.1 itself, binds to the loader
// opened here rather than looking for another one.
static void *kf_open(const char *variable, const char *const *defaults, int *named,
                     char *reason, size_t reason_size) {
  const char *chosen = getenv(variable);
  *named = chosen != NULL && chosen[0] != 0;
  if (*named) {
    void *handle = dlopen(chosen, RTLD_NOW | RTLD_GLOBAL);
    if (!handle) snprintf(reason, reason_size, "%s (from %s)", dlerror(), variable);
    return handle;
  }
  for (const char *const *name = defaults; *name; name++) {
    void *handle = dlopen(*name, RTLD_NOW | RTLD_GLOBAL);
    if (handle) return handle;
    snprintf(reason, reason_size, "%s", dlerror());
  }
  return NULL;
}

int kf_opencl_load(char *reason, size_t reason_size) {
  static const char *const opencl_names[] = {"libOpenCL.so.1", "libOpenCL.so", NULL};
  static const char *const clblast_names[] = {"libclblast.so.1", "libclblast.so", NULL};
  int named = 0;
  void *opencl = kf_open("KNEEFORCE_OPENCL_LIBRARY", opencl_names, &named, reason, reason_size);
  if (!opencl) return named ? 2 : 1;
  void *clblast =
      kf_open("KNEEFORCE_CLBLAST_LIBRARY", clblast_names, &named, reason, reason_size);
  if (!clblast) return 2;
#define KF_RESOLVE(handle, library, ret, name)                                                 \
  kf_p_##name = (__typeof__(&name))dlsym(handle, #name);                                       \
  if (!kf_p_##name) {                                                                          \
    snprintf(reason, reason_size, "%s has no entry point %s", library, #name);                 \
    return 3;                                                                                  \
  }
#define KF_RESOLVE_OPENCL(ret, name, params, args) KF_RESOLVE(opencl, "the OpenCL library", ret, name)
#define KF_RESOLVE_CLBLAST(ret, name, params, args) KF_RESOLVE(clblast, "CLBlast", ret, name)
  KF_OPENCL_FUNCTIONS(KF_RESOLVE_OPENCL)
  KF_CLBLAST_FUNCTIONS(KF_RESOLVE_CLBLAST)
#undef KF_RESOLVE_CLBLAST
#undef KF_RESOLVE_OPENCL
#undef KF_RESOLVE
  return 0;
}
