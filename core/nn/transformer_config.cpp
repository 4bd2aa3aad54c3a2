#include "core/nn/transformer_config.h"

#include <sstream>
#include <stdexcept>

namespace preflab {

int64_t TransformerConfig::parameterCount() const {
    if (llama) {
        const int64_t kv = keyValueHeads() * headDim(), q = attentionWidth();
        const int64_t perLayer = 2 * dModel                                   // two RMSNorms
                                 + dModel * (q + 2 * kv) + (qkvBias ? q + 2 * kv : 0)  // q, k, v
                                 + (qkNorm ? 2 * headDim() : 0)               // q and k norms (Qwen3)
                                 + q * dModel                                 // attention output
                                 + 3 * dModel * dFF;                          // gate, up, down
        return vocabSize * dModel * (tiedHead ? 1 : 2) + nLayers * perLayer + dModel + (scalarHead ? dModel + 1 : 0);
    }
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
    if (llama) {
        s.precision(17);
        s << " llama=1 kv_heads=" << keyValueHeads() << " qkv_bias=" << qkvBias << " tied=" << tiedHead
          << " rope_theta=" << ropeTheta << " rope_scale=" << ropeScale << " norm_eps=" << normEps;
        if (ropeOriginalContext > 0) {
            s << " rope_orig_ctx=" << ropeOriginalContext << " rope_low=" << ropeLowFreqFactor
              << " rope_high=" << ropeHighFreqFactor;
        }
        if (qkNorm) s << " qk_norm=1";
        if (headSize > 0) s << " head_dim=" << headSize;
    }
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
        if (key == "rope_theta" || key == "rope_scale" || key == "norm_eps" || key == "rope_low" || key == "rope_high") {
            double real = 0;
            try {
                real = std::stod(item.substr(eq + 1));
            } catch (const std::exception&) {
                throw std::invalid_argument("model config: '" + key + "' is not a number");
            }
            (key == "rope_theta"  ? c.ropeTheta
             : key == "rope_scale" ? c.ropeScale
             : key == "rope_low"   ? c.ropeLowFreqFactor
             : key == "rope_high"  ? c.ropeHighFreqFactor
                                   : c.normEps) = real;
            continue;
        }
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
        else if (key == "llama") c.llama = value;
        else if (key == "kv_heads") c.kvHeads = value;
        else if (key == "qkv_bias") c.qkvBias = value;
        else if (key == "tied") c.tiedHead = value;
        else if (key == "rope_orig_ctx") c.ropeOriginalContext = value;
        else if (key == "qk_norm") c.qkNorm = value;
        else if (key == "head_dim") c.headSize = value;
        else throw std::invalid_argument("model config: unknown key '" + key + "'");
    }
    const std::string err = c.validationError();
    if (!err.empty()) throw std::invalid_argument("model config: " + err);
    return c;
}

std::string TransformerConfig::validationError() const {
    if (vocabSize < 2 || vocabSize > 1'000'000) return "vocabulary size out of range";
    if (dModel < 1 || dModel > 16384) return "d_model out of range";
    if (nHeads < 1 || (headSize == 0 && dModel % nHeads != 0)) return "d_model must be a multiple of the head count";
    if (headSize < 0 || headSize > 1024 || (headSize > 0 && !llama)) return "a head size of its own needs the Llama layout (1 to 1024)";
    if ((qkNorm != 0 && qkNorm != 1) || (qkNorm && !llama)) return "q/k normalisation is 0 or 1, and needs the Llama layout";
    if (nLayers < 1 || nLayers > 256) return "layer count out of range";
    if (dFF < 1 || dFF > 131072) return "feed-forward width out of range";
    if (maxSeqLen < 2 || maxSeqLen > 131072) return "context length out of range";
    if (scalarHead != 0 && scalarHead != 1) return "scalar head must be 0 or 1";
    if (llama != 0 && llama != 1) return "llama must be 0 or 1";
    if (kvHeads < 0 || nHeads % keyValueHeads() != 0) return "the head count must be a multiple of the key/value head count";
    if (llama && headDim() % 2 != 0) return "rotary positions need an even head dimension";
    if (!(ropeTheta > 0) || !(ropeScale > 0) || !(normEps > 0) || normEps > 1) return "rope theta, rope scale and norm epsilon must be positive";
    if (ropeOriginalContext < 0 ||
        (ropeOriginalContext > 0 && !(ropeLowFreqFactor > 0 && ropeHighFreqFactor > ropeLowFreqFactor))) {
        return "Llama 3 rope scaling needs 0 < low_freq_factor < high_freq_factor";
    }
    return {};
}

}  // namespace preflab
