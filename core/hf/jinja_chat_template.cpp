#include "core/hf/jinja_chat_template.h"

#include "core/hf/vendor/minja.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace preflab {

// minja's values are nlohmann's JSON with the keys in insertion order.
using Json = nlohmann::ordered_json;

struct JinjaChatTemplate::Parsed {
    std::string source, bos, eos, where;
    std::shared_ptr<minja::TemplateNode> root;
};

JinjaChatTemplate::JinjaChatTemplate(const std::string& source, std::string bosToken, std::string eosToken,
                                     std::string where) {
    auto parsed = std::make_shared<Parsed>();
    parsed->source = source;
    parsed->bos = std::move(bosToken);
    parsed->eos = std::move(eosToken);
    parsed->where = std::move(where);
    try {
        // transformers' Jinja environment: trim_blocks and lstrip_blocks.
        parsed->root = minja::Parser::parse(source, {/* trim_blocks */ true, /* lstrip_blocks */ true,
                                                     /* keep_trailing_newline */ false});
    } catch (const std::exception& e) {
        throw ChatTemplateError(parsed->where + ": the chat template does not parse: " + e.what());
    }
    m_parsed = std::move(parsed);
}

const std::string& JinjaChatTemplate::source() const {
    return m_parsed->source;
}

const std::string& JinjaChatTemplate::where() const {
    return m_parsed->where;
}

namespace {

std::string renderWith(const JinjaChatTemplate& t, const std::shared_ptr<minja::TemplateNode>& root,
                       Json messages, bool addGenerationPrompt, const std::string& bos, const std::string& eos,
                       const Json& extra) {
    auto context = minja::Context::make(Json{{"messages", std::move(messages)},
                                                    {"add_generation_prompt", addGenerationPrompt}});
    context->set("bos_token", bos);
    context->set("eos_token", eos);
    // transformers defines strftime_now (Llama 3.1's template dates its
    // system turn with it): local time, Python's strftime format.
    context->set("strftime_now", minja::Value::callable([](const std::shared_ptr<minja::Context>&, minja::ArgumentsValue& args) {
        args.expectArgs("strftime_now", {1, 1}, {0, 0});
        const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        std::tm local{};
        localtime_r(&now, &local);
        std::ostringstream out;
        out << std::put_time(&local, args.args[0].get<std::string>().c_str());
        return minja::Value(out.str());
    }));
    if (extra.is_object()) {
        for (const auto& item : extra.items()) context->set(item.key(), minja::Value(item.value()));
    }
    try {
        return root->render(context);
    } catch (const std::exception& e) {
        // raise_exception's message, or the engine's (an undefined filter, ...).
        throw ChatTemplateError(t.where() + ": the chat template raised: " + e.what());
    }
}

}  // namespace

std::string JinjaChatTemplate::render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const {
    Json list = Json::array();
    for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    return renderWith(*this, m_parsed->root, std::move(list), addGenerationPrompt, m_parsed->bos, m_parsed->eos, {});
}

std::string JinjaChatTemplate::renderJson(const std::string& messagesJson, bool addGenerationPrompt,
                                          const std::string& extraJson) const {
    Json list, extra;
    try {
        list = Json::parse(messagesJson);
        if (!extraJson.empty()) extra = Json::parse(extraJson);
    } catch (const std::exception& e) {
        throw ChatTemplateError(std::string("the messages are not JSON: ") + e.what());
    }
    if (!list.is_array()) throw ChatTemplateError("the messages must be a JSON list of {\"role\", \"content\"} objects");
    return renderWith(*this, m_parsed->root, std::move(list), addGenerationPrompt, m_parsed->bos, m_parsed->eos, extra);
}

}  // namespace preflab
