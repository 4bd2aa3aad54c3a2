#pragma once
// Where a student is in a lesson, as a file a teacher can hand out ("open
// this"): the lesson, the seed, whether it pauses at each cue, and the last
// cue shown. Opening it starts the lesson with that seed and runs without
// pausing up to that cue, where it stops as it did when saved (the same seed
// on the same machine gives the same runs). Plain C++ with QtCore's JSON.
//
//   {"preflab_lesson_state": 1, "lesson": "over-optimisation", "seed": 2,
//    "step_mode": true, "reached_cue": "kl4"}
#include <cstdint>
#include <string>

namespace preflab {

struct LessonState {
    std::string lesson;
    int64_t seed = 1;
    bool stepMode = true;
    std::string reachedCue;  // empty: from the start

    bool operator==(const LessonState& o) const {
        return lesson == o.lesson && seed == o.seed && stepMode == o.stepMode && reachedCue == o.reachedCue;
    }
};

// The file's text (one JSON object).
std::string lessonStateJson(const LessonState& state);
// Parses a state file's text; throws LessonError naming `file` and the field.
LessonState parseLessonState(const std::string& json, const std::string& file);
// Writes atomically / reads a state file; errors name the file.
void writeLessonStateFile(const LessonState& state, const std::string& path);
LessonState readLessonStateFile(const std::string& path);

}  // namespace preflab
