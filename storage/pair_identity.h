#pragma once
// What makes two stored pairs the same pair: the prompt (its text, and its
// messages for an imported conversation) and the two responses, compared
// exactly; the responses in either order (A/B as one file gives them, B/A as
// another). `pairs.text_key` (schema v7) indexes that identity with 64 bits
// of SHA-256; equal keys are only candidates, whose texts are then compared,
// so a hash collision cannot merge two different pairs. Plain C++ and QtCore.
#include <cstdint>
#include <string>

namespace preflab {

// The index key of a pair's texts: the same for (prompt, a, b) and (prompt, b, a).
int64_t pairTextKey(const std::string& prompt, const std::string& promptMessagesJson, const std::string& a,
                    const std::string& b);

}  // namespace preflab
