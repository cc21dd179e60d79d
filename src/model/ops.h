#pragma once
// Small f32 vector operations of the plain (reference) forward pass. Single-threaded, noexcept, no allocation.
#include <cstdint>

#include "model/weights.h"  // QTensor

namespace dsmoe {

float dot(const float* a, const float* b, int64_t n) noexcept;
void axpy(float a, const float* x, float* y, int64_t n) noexcept;  // y += a * x
void add(const float* x, float* y, int64_t n) noexcept;            // y += x
// out = x / sqrt(mean(x^2) + eps) * w (out may alias x).
void rmsnorm(const float* x, const float* w, int64_t n, double eps, float* out) noexcept;
// In place: x = softmax(x) over n values.
void softmax(float* x, int64_t n) noexcept;
// gate = silu(gate) * up, the SwiGLU activation.
void silu_mul(float* gate, const float* up, int64_t n) noexcept;

// Row r of `w` as f32: a pointer into the weights when they are f32, else dequantized into buf
// (w.cols floats).
const float* weight_row(const QTensor& w, int64_t r, float* buf) noexcept;

}  // namespace dsmoe
