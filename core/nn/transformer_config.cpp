#include "core/nn/transformer_config.h"

#include <sstream>
#include <stdexcept>

namespace preflab {

int64_t TransformerConfig::parameterCount() const {
    const int64_t perLayer = 2 * 2 * dModel                 // two layer norms
                             + 3 * dModel * dModel + 3 * dModel  // qkv
                             + dModel * dModel + dModel          // attention output
                             + dModel * dFF + dFF + dFF * dModel + dModel;
    return vocabSize * dModel + maxSeqLen * dModel + nLayers * perLayer + 2 * dModel + (scalarHead ? dModel + 1 : 0);
}

std::string TransformerConfig::serialize() const {
    std::ostringstream s;
    s << "vocab=" << vocabSize << " d=" << dModel << " layers=" << nLayers << " heads=" << nHeads
      << " ff=" << dFF << " ctx=" << maxSeqLen;
    if (scalarHead) s << " scalar=1";
    return s.str();
}

TransformerConfig TransformerConfig::deserialize(const std::string& text) {
    TransformerConfig c;
    std::istringstream in(text);
    std::string item;
    while (in >> item) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) throw std::invalid_argument("model config: expected key=value, got '" + item + "'");
        const std::string key = item.substr(0, eq);
        int64_t value = 0;
        try {
            value = std::stoll(item.substr(eq + 1));
        } catch (const std::exception&) {
            throw std::invalid_argument("model config: '" + key + "' is not an integer");
        }
        if (key == "vocab") c.vocabSize = value;
        else if (key == "d") c.dModel = value;
        else if (key == "layers") c.nLayers = value;
        else if (key == "heads") c.nHeads = value;
        else if (key == "ff") c.dFF = value;
        else if (key == "ctx") c.maxSeqLen = value;
        else if (key == "scalar") c.scalarHead = value;
        else throw std::invalid_argument("model config: unknown key '" + key + "'");
    }
    const std::string err = c.validationError();
    if (!err.empty()) throw std::invalid_argument("model config: " + err);
    return c;
}

std::string TransformerConfig::validationError() const {
    if (vocabSize < 2 || vocabSize > 1'000'000) return "vocabulary size out of range";
    if (dModel < 1 || dModel > 16384) return "d_model out of range";
    if (nHeads < 1 || dModel % nHeads != 0) return "d_model must be a multiple of the head count";
    if (nLayers < 1 || nLayers > 256) return "layer count out of range";
    if (dFF < 1 || dFF > 131072) return "feed-forward width out of range";
    if (maxSeqLen < 2 || maxSeqLen > 131072) return "context length out of range";
    if (scalarHead != 0 && scalarHead != 1) return "scalar head must be 0 or 1";
    return {};
}

}  // namespace preflab
