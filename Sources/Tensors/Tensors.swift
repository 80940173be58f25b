// Tensors: Float32 tensors with reverse-mode autograd.
