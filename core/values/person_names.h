#pragma once
// Annotator and reviewer names, as stored: trimmed and in Unicode NFC, so
// that "Zoë" typed on a Mac (NFD) and on Linux (NFC), or "ann" and "ann ",
// are one person; names with control characters (an ANSI escape that clears
// the screen of whoever prints agreement) or longer than kMaxNameLength are
// refused. Plain C++ and QtCore.
#include <string>

namespace preflab {

inline constexpr int kMaxNameLength = 64;  // characters (code points), after normalisation

// Returns what is wrong with `raw` as a name (empty when it is good) and sets
// `name` to its stored form. `what` names the field in the message
// ("annotator", "reviewer"). An empty name is refused when `required`, else
// stored as "" (an unnamed label: a judge's, or a person's without a name).
std::string normalizeName(const std::string& raw, std::string& name, const char* what = "annotator",
                          bool required = true);

// `text` for a terminal: control characters (C0 and C1, DEL, and the bidi
// overrides that reorder what follows) as visible escapes (\x1B, \u202E), so
// that a name or prompt cannot move the cursor, clear the screen or retitle
// the window. Line breaks and tabs are kept when `multiline`, escaped
// otherwise. Invalid UTF-8 is shown as U+FFFD.
std::string terminalSafe(const std::string& text, bool multiline = false);

}  // namespace preflab
