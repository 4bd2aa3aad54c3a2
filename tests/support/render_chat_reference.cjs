// The reference of tst_jinja_templates: renders chat templates with
// @huggingface/jinja (transformers.js's engine), as transformers.js's
// apply_chat_template passes them: messages, add_generation_prompt and the
// tokenizer's special tokens. Reads a JSON list of cases from the file in
// argv[3], prints a JSON list of {"text"} or {"error"}.
const fs = require("fs");
const { Template } = require(process.argv[2]);
const cases = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = cases.map((c) => {
  try {
    const context = { messages: c.messages, add_generation_prompt: c.add_generation_prompt,
                      bos_token: c.bos_token, eos_token: c.eos_token };
    return { text: new Template(c.template).render(context) };
  } catch (e) {
    return { error: String(e && e.message) };
  }
});
process.stdout.write(JSON.stringify(out));
