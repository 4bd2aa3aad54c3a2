#pragma once
// Reading the JSON files of a Hugging Face model folder (config.json,
// tokenizer.json, tokenizer_config.json, the shard index). Errors name the
// file. QtCore only.
#include <QJsonObject>

#include <string>

namespace preflab {

// The object in `text`; throws std::runtime_error("<name>: ...") otherwise.
QJsonObject parseJsonObject(const std::string& text, const std::string& name);
// The object in the file at `path`; throws std::runtime_error naming it.
QJsonObject readJsonObjectFile(const std::string& path);
// A special token's text as tokenizer_config.json gives it: a string, or an
// object with "content" (AddedToken). Empty when absent.
std::string tokenContent(const QJsonValue& value);

}  // namespace preflab
