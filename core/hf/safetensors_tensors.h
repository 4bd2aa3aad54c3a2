#pragma once
// Safetensors <-> LibTorch: copies a validated tensor's bytes into an
// at::Tensor of the requested compute dtype, and writes tensors back.
// Core-private (torch).
#include "core/hf/safetensors.h"

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace preflab {

at::ScalarType toScalarType(StDtype d);
// Throws SafetensorsError for a dtype LibTorch cannot hold.
StDtype fromScalarType(at::ScalarType t, const std::string& forTensor);

// A copy (the mapping may go away) converted to `dtype`.
at::Tensor loadTensor(const SafetensorsFile& file, const StTensorInfo& info, at::ScalarType dtype);
// By name; throws SafetensorsError naming the file and the missing tensor.
at::Tensor loadTensor(const SafetensorsFile& file, const std::string& name, at::ScalarType dtype);

// Writes (name, tensor) pairs, each stored in its own dtype, contiguous.
void saveTensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                 const std::map<std::string, std::string>& metadata = {});

}  // namespace preflab
