// Host shim: compiles qantikt.cu with the host C++ compiler (backend "cuda-emulated").
// A launch becomes one block of one thread, so each kernel's grid-stride loop
// (FOR_EACH_WORK_ITEM) visits every work item in turn; math comes from libm.
#ifndef QK_CUDA_SHIM_H
#define QK_CUDA_SHIM_H
#define QK_HOST 1
#include <math.h>
#include <string.h>

#define __global__
#define __device__
#define __forceinline__

struct qk_dim3 {
    long long x;
};
static const qk_dim3 blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};

static inline double __longlong_as_double(long long v) {
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}
#endif
