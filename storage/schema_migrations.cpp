#include "storage/schema_migrations.h"

#include "storage/pair_identity.h"

#include <regex>

namespace preflab {
namespace {

const std::vector<std::string>& sqliteMigrations() {
    static const std::vector<std::string> steps = {
        // v1: runs, prompts, responses, pairs, labels, ratings, metrics, checkpoints.
        R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  config_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  code_version TEXT NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'created' CHECK(status IN ('created','running','paused','finished','failed','stopped')),
  last_step INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE prompts(
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);
CREATE TABLE checkpoints(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  metrics_json TEXT NOT NULL DEFAULT '{}',
  created_ms INTEGER NOT NULL,
  UNIQUE(run_id, step)
);
CREATE TABLE responses(
  id INTEGER PRIMARY KEY,
  prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  text TEXT NOT NULL,
  token_count INTEGER,
  ended_with_eos INTEGER,
  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER,
  logprob REAL,
  sampling_logprob REAL,
  ref_logprob REAL,
  gold_reward REAL
);
CREATE TABLE pairs(
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  run_index INTEGER,
  prompt_id INTEGER NOT NULL REFERENCES prompts(id),
  response_a INTEGER NOT NULL REFERENCES responses(id),
  response_b INTEGER NOT NULL REFERENCES responses(id),
  source TEXT NOT NULL DEFAULT 'generated',
  created_ms INTEGER NOT NULL,
  trained_step INTEGER,
  UNIQUE(run_id, run_index)
);
CREATE TABLE labels(
  id INTEGER PRIMARY KEY,
  pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  choice TEXT NOT NULL CHECK(choice IN ('a','b','tie','both_bad','skip')),
  source TEXT NOT NULL CHECK(source IN ('human','self','reward_model','task','import')),
  annotator TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE TABLE ratings(
  id INTEGER PRIMARY KEY,
  response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
  value REAL NOT NULL,
  source TEXT NOT NULL,
  annotator TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE TABLE metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX metrics_by_run ON metrics(run_id, name, step);
CREATE INDEX labels_by_pair ON labels(pair_id);
CREATE INDEX pairs_by_run ON pairs(run_id, trained_step);
CREATE INDEX responses_by_prompt ON responses(prompt_id);
)sql",
        // v2: the database's identity, a random UUID made once when the
        // database is created (or migrated). Checkpoint folders are keyed by it,
        // since run ids are only unique within one database. Existing
        // checkpoint rows keep their paths, so nothing already saved moves.
        R"sql(
CREATE TABLE database_identity(
  singleton INTEGER PRIMARY KEY CHECK(singleton = 1),
  uuid TEXT NOT NULL
);
INSERT INTO database_identity(singleton, uuid)
SELECT 1, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
                substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
)sql",
        // v3: warnings a run's metrics raised (mode collapse, KL runaway, ...),
        // one row per kind and run: a resumed run that raises one again keeps
        // the first.
        R"sql(
CREATE TABLE run_events(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  advice TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  UNIQUE(run_id, kind)
);
)sql",
        // v4: the policy's responses to a few fixed prompts at each evaluation
        // (the completions view); a resumed run's rewrite of a step replaces it.
        R"sql(
CREATE TABLE eval_samples(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  prompt_index INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  text TEXT NOT NULL,
  gold_reward REAL,
  PRIMARY KEY(run_id, step, prompt_index)
);
)sql",
        // v5: imported conversations (TRL conversational, UltraFeedback): the
        // prompt's messages for a chat template, and the row as read, which
        // export writes back unchanged.
        R"sql(
CREATE TABLE conversations(
  pair_id INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  prompt_messages TEXT NOT NULL,
  source_row TEXT NOT NULL
);
)sql",
        // v6: a reviewer's final label where annotators disagree (source
        // 'adjudicated'). SQLite cannot change a CHECK constraint in place, so
        // the labels table is rebuilt with every row and id kept.
        R"sql(
CREATE TABLE labels_v6(
  id INTEGER PRIMARY KEY,
  pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  choice TEXT NOT NULL CHECK(choice IN ('a','b','tie','both_bad','skip')),
  source TEXT NOT NULL CHECK(source IN ('human','self','reward_model','task','import','adjudicated')),
  annotator TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
INSERT INTO labels_v6(id, pair_id, choice, source, annotator, created_ms)
  SELECT id, pair_id, choice, source, annotator, created_ms FROM labels;
DROP TABLE labels;
ALTER TABLE labels_v6 RENAME TO labels;
CREATE INDEX labels_by_pair ON labels(pair_id);
)sql",
        // v7: a pair's identity (pair_identity.h): 64 bits of SHA-256 of its
        // texts, so that an import finds the pair it already holds (the same
        // file twice, one file per annotator) and merges instead of adding a
        // copy. Only an index: candidates' texts are compared. Filled in for
        // the pairs already stored by migrationCode below.
        R"sql(
ALTER TABLE pairs ADD COLUMN text_key INTEGER;
CREATE INDEX pairs_by_text_key ON pairs(text_key);
)sql",
        // v8: unpaired labels (thumbs up or down on one response; KTO's data,
        // TRL's unpaired format): append-only, the latest per annotator counts.
        R"sql(
CREATE TABLE response_labels(
  id INTEGER PRIMARY KEY,
  response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
  label TEXT NOT NULL CHECK(label IN ('up','down')),
  source TEXT NOT NULL,
  annotator TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE INDEX response_labels_by_response ON response_labels(response_id);
)sql",
        // v9: how a person gave a label (issue 31's quality signals): the
        // seconds it took (the pair on screen, the window active) and which
        // side was shown first, for a position bias. NULL where unknown: a
        // judge's label, an older row, an import without them.
        R"sql(
ALTER TABLE labels ADD COLUMN seconds REAL;
ALTER TABLE labels ADD COLUMN shown_first TEXT CHECK(shown_first IN ('a','b'));
ALTER TABLE response_labels ADD COLUMN seconds REAL;
)sql",
        // v10: a person's label carries an idempotency key, made once when it
        // is given: the writer keeps a batch whose COMMIT failed and sends it
        // again, and where the COMMIT had in fact reached the server (a
        // connection lost in transit), the second insert finds the key and
        // stores nothing. NULL (judges, imports) never collides.
        R"sql(
ALTER TABLE labels ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX labels_by_idempotency_key ON labels(idempotency_key);
ALTER TABLE response_labels ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX response_labels_by_idempotency_key ON response_labels(idempotency_key);
)sql",
        // v11: labeling guidelines (Markdown) for one run's pairs or, with no
        // run, for every stored pair; append-only, the latest in force.
        R"sql(
CREATE TABLE guidelines(
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  text TEXT NOT NULL,
  author TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
)sql",
        // v12: gold pairs and edited responses (issue 31). A gold pair has a
        // known answer set by a lead; it is mixed unannounced into annotators'
        // queues at the latest gold share, never trained on or exported as
        // training data, and scores each annotator. A response an annotator
        // edited names the response it was made from; the pair (edited,
        // original) is a correction labelled by its editor.
        R"sql(
CREATE TABLE gold_pairs(
  pair_id INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  answer TEXT NOT NULL CHECK(answer IN ('a','b','tie','both_bad')),
  author TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE TABLE gold_shares(
  id INTEGER PRIMARY KEY,
  share REAL NOT NULL CHECK(share >= 0 AND share <= 0.5),
  author TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
ALTER TABLE responses ADD COLUMN edited_from INTEGER REFERENCES responses(id);
)sql",
        // v13: dataset pairs' reference log-probabilities, computed once and
        // kept (issue 33): one row per pair, replaced when a run with another
        // reference computes them again. `fingerprint` names the reference
        // (weights, compute type, tokenizer, context length) and `tokens_key`
        // the pair's token ids as fitted; a row that matches neither is stale.
        R"sql(
CREATE TABLE ref_logprobs(
  pair_id INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  fingerprint TEXT NOT NULL,
  tokens_key INTEGER NOT NULL,
  ref_a REAL NOT NULL,
  ref_b REAL NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql",
        // v14: labels from an instruct model asked to judge (source 'llm',
        // issue 30). As at v6, SQLite rebuilds the table to change its CHECK
        // constraint, keeping every row, id and column added since.
        R"sql(
CREATE TABLE labels_v14(
  id INTEGER PRIMARY KEY,
  pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  choice TEXT NOT NULL CHECK(choice IN ('a','b','tie','both_bad','skip')),
  source TEXT NOT NULL CHECK(source IN ('human','self','reward_model','task','import','adjudicated','llm')),
  annotator TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  seconds REAL,
  shown_first TEXT CHECK(shown_first IN ('a','b')),
  idempotency_key TEXT
);
INSERT INTO labels_v14(id, pair_id, choice, source, annotator, created_ms, seconds, shown_first, idempotency_key)
  SELECT id, pair_id, choice, source, annotator, created_ms, seconds, shown_first, idempotency_key FROM labels;
DROP TABLE labels;
ALTER TABLE labels_v14 RENAME TO labels;
CREATE INDEX labels_by_pair ON labels(pair_id);
CREATE UNIQUE INDEX labels_by_idempotency_key ON labels(idempotency_key);
)sql",
    };
    return steps;
}

// PostgreSQL's text of a step written for SQLite: 64-bit integers (SQLite's
// INTEGER is 64-bit, PostgreSQL's 32), doubles (PostgreSQL's REAL is 32-bit)
// and identity columns for ids. Steps SQLite's dialect cannot share are
// written out below.
std::string toPostgres(const std::string& sqlite) {
    std::string s = std::regex_replace(sqlite, std::regex(R"(\bid INTEGER PRIMARY KEY\b)"),
                                       "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    s = std::regex_replace(s, std::regex(R"(\bINTEGER\b)"), "BIGINT");
    return std::regex_replace(s, std::regex(R"(\bREAL\b)"), "DOUBLE PRECISION");
}

std::vector<std::string> makePostgresMigrations() {
    std::vector<std::string> steps;
    for (const std::string& s : sqliteMigrations()) steps.push_back(toPostgres(s));
    // v1: SQLite's metrics rows keep their insertion order in the implicit
    // rowid, which queries order by; PostgreSQL has no implicit one.
    steps[0] += "ALTER TABLE metrics ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;\n";
    // A B-tree entry holds at most about 2.7 kB, and multi-turn prompts are
    // longer: the prompts' uniqueness is kept on their MD5 and the lookup by
    // text goes through a hash index, which has no such limit.
    const std::string unique = "text TEXT NOT NULL UNIQUE";
    steps[0].replace(steps[0].find(unique), unique.size(), "text TEXT NOT NULL");
    steps[0] += "CREATE UNIQUE INDEX prompts_text_unique ON prompts(md5(text));\n"
                "CREATE INDEX prompts_by_text ON prompts USING hash(text);\n";
    // v2: the identity's UUID from PostgreSQL's own generator.
    steps[1] = R"sql(
CREATE TABLE database_identity(
  singleton BIGINT PRIMARY KEY CHECK(singleton = 1),
  uuid TEXT NOT NULL
);
INSERT INTO database_identity(singleton, uuid) VALUES(1, gen_random_uuid()::text);
)sql";
    // v6: PostgreSQL changes the CHECK constraint in place.
    steps[5] = R"sql(
ALTER TABLE labels DROP CONSTRAINT labels_source_check;
ALTER TABLE labels ADD CONSTRAINT labels_source_check
  CHECK(source IN ('human','self','reward_model','task','import','adjudicated'));
)sql";
    // v14: the same in place for the LLM judge's labels.
    steps[13] = R"sql(
ALTER TABLE labels DROP CONSTRAINT labels_source_check;
ALTER TABLE labels ADD CONSTRAINT labels_source_check
  CHECK(source IN ('human','self','reward_model','task','import','adjudicated','llm'));
)sql";
    return steps;
}

}  // namespace

void migrationCode(int version, SqlConnection& c) {
    if (version != 7) return;
    // v7: every stored pair's key, from its texts as the database holds them.
    std::vector<std::pair<int64_t, int64_t>> keys;
    {
        SqlStatement s(c, "SELECT pairs.id, p.text, coalesce(cv.prompt_messages, ''), ra.text, rb.text FROM pairs "
                          "JOIN prompts p ON p.id = pairs.prompt_id "
                          "JOIN responses ra ON ra.id = pairs.response_a JOIN responses rb ON rb.id = pairs.response_b "
                          "LEFT JOIN conversations cv ON cv.pair_id = pairs.id");
        while (s.step()) keys.emplace_back(s.int64(0), pairTextKey(s.text(1), s.text(2), s.text(3), s.text(4)));
    }
    SqlStatement update(c, "UPDATE pairs SET text_key = ? WHERE id = ?");
    for (const auto& [id, key] : keys) {
        update.bind(1, key).bind(2, id);
        update.run();
    }
}

const std::vector<std::string>& schemaMigrations(SqlDialect dialect) {
    static const std::vector<std::string> postgres = makePostgresMigrations();
    return dialect == SqlDialect::Postgres ? postgres : sqliteMigrations();
}

}  // namespace preflab
