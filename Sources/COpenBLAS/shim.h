#include <cblas.h>
// Declared by OpenBLAS but not in the reference cblas.h.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// mallopt, for keeping freed activation buffers in the heap (see Kernels/Parallel.swift).
#include <malloc.h>
