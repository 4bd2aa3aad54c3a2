#include "core/hf/safetensors_tensors.h"

namespace preflab {

at::ScalarType toScalarType(StDtype d) {
    switch (d) {
    case StDtype::F32: return at::kFloat;
    case StDtype::F16: return at::kHalf;
    case StDtype::BF16: return at::kBFloat16;
    case StDtype::F64: return at::kDouble;
    case StDtype::I64: return at::kLong;
    case StDtype::I32: return at::kInt;
    case StDtype::I16: return at::kShort;
    case StDtype::I8: return at::kChar;
    case StDtype::U8: return at::kByte;
    case StDtype::Bool: return at::kBool;
    }
    return at::kFloat;
}

StDtype fromScalarType(at::ScalarType t, const std::string& forTensor) {
    for (StDtype d : {StDtype::F32, StDtype::F16, StDtype::BF16, StDtype::F64, StDtype::I64, StDtype::I32, StDtype::I16,
                      StDtype::I8, StDtype::U8, StDtype::Bool}) {
        if (toScalarType(d) == t) return d;
    }
    throw SafetensorsError("tensor '" + forTensor + "': dtype " + std::string(c10::toString(t)) + " has no safetensors name");
}

at::Tensor loadTensor(const SafetensorsFile& file, const StTensorInfo& info, at::ScalarType dtype) {
    // Safetensors data is little-endian, as is every CPU LibTorch runs on here.
    const at::Tensor view = at::from_blob(const_cast<uint8_t*>(file.bytes(info)), info.shape,
                                          at::TensorOptions().dtype(toScalarType(info.dtype)));
    return view.to(dtype, /*non_blocking=*/false, /*copy=*/true);
}

at::Tensor loadTensor(const SafetensorsFile& file, const std::string& name, at::ScalarType dtype) {
    const StTensorInfo* info = file.find(name);
    if (!info) throw SafetensorsError(file.path() + ": no tensor named '" + name + "'");
    return loadTensor(file, *info, dtype);
}

void saveTensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                 const std::map<std::string, std::string>& metadata) {
    std::vector<at::Tensor> keep;  // contiguous CPU copies alive until written
    std::vector<StTensorData> out;
    for (const auto& [name, t] : tensors) {
        keep.push_back(t.detach().to(at::kCPU).contiguous());
        StTensorData d;
        d.name = name;
        d.dtype = fromScalarType(t.scalar_type(), name);
        d.shape = keep.back().sizes().vec();
        d.data = keep.back().data_ptr();
        out.push_back(std::move(d));
    }
    writeSafetensors(path, out, metadata);
}

}  // namespace preflab
