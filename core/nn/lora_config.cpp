#include "core/nn/lora_config.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace preflab {

std::string LoraConfig::serialize() const {
    std::ostringstream s;
    s.precision(15);  // "0.05", not "0.050000000000000003"; both sides of a comparison format alike
    s << "rank=" << rank << " alpha=" << alpha << " dropout=" << dropout << " targets=";
    for (size_t i = 0; i < targets.size(); ++i) s << (i ? "," : "") << targets[i];
    return s.str();
}

LoraConfig LoraConfig::deserialize(const std::string& text) {
    LoraConfig c;
    std::istringstream in(text);
    std::string item;
    while (in >> item) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) throw std::invalid_argument("LoRA settings: '" + item + "' is not key=value");
        const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
        try {
            if (key == "rank") c.rank = std::stoll(value);
            else if (key == "alpha") c.alpha = std::stod(value);
            else if (key == "dropout") c.dropout = std::stod(value);
            else if (key == "targets") c.targets = splitLoraTargets(value);
            else throw std::invalid_argument("unknown key");
        } catch (const std::exception&) {
            throw std::invalid_argument("LoRA settings: bad '" + item + "'");
        }
    }
    if (c.rank <= 0 || !std::isfinite(c.alpha) || !(c.dropout >= 0 && c.dropout < 1)) {
        throw std::invalid_argument("LoRA settings out of range: " + text);
    }
    return c;
}

std::vector<LoraSite> loraSites(const TransformerConfig& c) {
    const int64_t D = c.dModel, F = c.dFF;
    if (!c.llama) {
        return {{"qkv", "attn.c_attn", 0, 3 * D, D},
                {"attn_out", "attn.c_proj", 0, D, D},
                {"fc", "mlp.c_fc", 0, F, D},
                {"proj", "mlp.c_proj", 0, D, F}};
    }
    const int64_t kv = c.keyValueHeads() * c.headDim(), Q = c.attentionWidth();
    return {{"qkv", "self_attn.q_proj", 0, Q, D},
            {"qkv", "self_attn.k_proj", Q, kv, D},
            {"qkv", "self_attn.v_proj", Q + kv, kv, D},
            {"attn_out", "self_attn.o_proj", 0, D, Q},
            {"fc", "mlp.gate_proj", 0, F, D},
            {"fc", "mlp.up_proj", F, F, D},
            {"proj", "mlp.down_proj", 0, D, F}};
}

std::vector<std::string> defaultLoraTargets(const TransformerConfig& c) {
    if (!c.llama) return {"c_attn"};
    return {"q_proj", "v_proj"};
}

namespace {

bool matches(const std::string& module, const std::string& target) {
    if (target == "all-linear" || module == target) return true;
    return module.size() > target.size() &&
           module.compare(module.size() - target.size() - 1, target.size() + 1, "." + target) == 0;
}

}  // namespace

std::vector<LoraSite> selectLoraSites(const TransformerConfig& c, const std::vector<std::string>& targets) {
    const std::vector<std::string> wanted = targets.empty() ? defaultLoraTargets(c) : targets;
    const std::vector<LoraSite> all = loraSites(c);
    std::vector<LoraSite> chosen;
    for (const LoraSite& site : all) {
        for (const std::string& t : wanted) {
            if (matches(site.module, t)) {
                chosen.push_back(site);
                break;
            }
        }
    }
    for (const std::string& t : wanted) {
        bool any = false;
        for (const LoraSite& site : all) any = any || matches(site.module, t);
        if (!any) {
            std::string names;
            for (const LoraSite& site : all) names += (names.empty() ? "" : ", ") + site.module;
            throw std::invalid_argument("LoRA target '" + t + "' matches no projection of this model (" + names +
                                        ", or all-linear)");
        }
    }
    return chosen;
}

std::vector<std::string> splitLoraTargets(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : text + ",") {
        if (ch == ',' || ch == ' ') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    return out;
}

}  // namespace preflab
