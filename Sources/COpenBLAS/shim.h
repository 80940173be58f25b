#include <cblas.h>
// Declared by OpenBLAS but not in the reference cblas.h.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The pthread build's thread server starts a worker per core when the library loads, and each spins for about
// 2^28 cycles (some 70 ms) before it sleeps, on the cores the zoo's own workers need. The zoo calls OpenBLAS on
// one thread only, so it stops them. Weak: builds without a thread server (serial) do not define it.
int blas_thread_shutdown_(void) __attribute__((weak));
static inline void zoo_openblas_stop_thread_server(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
extern int blas_server_avail __attribute__((weak));
/// Whether OpenBLAS's thread server is running (never, in builds without one).
static inline int zoo_openblas_thread_server_running(void) { return &blas_server_avail && blas_server_avail; }
// mallopt, for keeping freed activation buffers in the heap (see Kernels/Parallel.swift).
#include <malloc.h>
