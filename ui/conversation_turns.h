#pragma once
// A multi-turn prompt as the labeling view shows it. Pairs reach the view
// with their prompt as text: an HH-RLHF dialogue ("\n\nHuman: …\n\nAssistant:
// …") or an imported conversation as storage writes it ("User: …\n\nAssistant:
// …", storage/pair_line_parser.h's plainConversationText). The turns are
// read back from those markers; a prompt with fewer than two turns is plain
// text. UI thread (plain functions).
#include "core/values/chat_message.h"

#include <QString>

#include <string>
#include <vector>

namespace preflab {

// The turns of `prompt` (roles user, assistant, system, tool; HH's "Human"
// is the user), without the empty closing assistant turn where the response
// goes; empty when the prompt is not a conversation.
std::vector<ChatMessage> conversationTurns(const std::string& prompt);

// The prompt as rich text for the view's prompt label: plain text as it
// was; a conversation with every turn labelled by its role and the last user
// turn emphasised. Earlier turns are folded to one line each unless
// `showEarlier`; a "show"/"hide" link (href "#earlier") toggles them.
QString promptHtml(const std::string& prompt, bool showEarlier);

}  // namespace preflab
