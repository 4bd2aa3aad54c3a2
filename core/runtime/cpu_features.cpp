#include "core/runtime/cpu_features.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace preflab {
namespace {

#if defined(__x86_64__) || defined(__i386__)
unsigned long long readXcr0() {
    unsigned int eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned int a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    const unsigned int maxLeaf = a;
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    f.vendor = vendor;

    __get_cpuid(1, &a, &b, &c, &d);
    const bool osxsave = c & (1u << 27);
    f.fma = c & (1u << 12);
    const bool avx = c & (1u << 28);
    unsigned long long xcr0 = osxsave ? readXcr0() : 0;
    const bool osYmm = (xcr0 & 0x6) == 0x6;
    const bool osZmm = (xcr0 & 0xe6) == 0xe6;
    const bool osAmx = (xcr0 & 0x60000) == 0x60000;
    if (maxLeaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = avx && osYmm && (b & (1u << 5));
        f.avx512f = osZmm && (b & (1u << 16));
        f.avx512dq = osZmm && (b & (1u << 17));
        f.avx512bw = osZmm && (b & (1u << 30));
        f.avx512vl = osZmm && (b & (1u << 31));
        f.amxBf16 = osAmx && (d & (1u << 22));
        unsigned int a1 = 0, b1 = 0, c1 = 0, d1 = 0;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        f.avx512bf16 = f.avx512f && (a1 & (1u << 5));
    }
#endif
    return f;
}

}  // namespace

const CpuFeatures& cpuFeatures() {
    static const CpuFeatures features = detect();
    return features;
}

std::string CpuFeatures::summary() const {
    std::string s = vendor.empty() ? "unknown CPU" : vendor;
    s += avx2 ? " avx2" : " no-avx2";
    s += avx512Usable() ? " avx512" : " no-avx512";
    if (avx512bf16) s += " avx512_bf16";
    if (amxBf16) s += " amx_bf16";
    return s;
}

}  // namespace preflab
