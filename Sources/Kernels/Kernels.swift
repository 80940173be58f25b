// Kernels: free functions over buffers, forward/backward pairs. See ../shared/DESIGN.md.
