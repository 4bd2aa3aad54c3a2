#pragma once
// One turn of a conversation: what an imported conversational prompt stores
// and what a chat template renders. A plain value (no torch), so the loop's
// value types can carry it across threads.
#include <string>

namespace preflab {

struct ChatMessage {
    std::string role;  // system, user, assistant or tool
    std::string content;
};

}  // namespace preflab
