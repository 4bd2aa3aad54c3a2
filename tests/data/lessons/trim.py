#!/usr/bin/env python3
"""Trims a run recorded by `preflab lesson ID --record FILE.csv` to the metrics
the lesson reads (its checks, cues, texts and plots) and those the run-warning
monitor reads (core/values/run_warnings.cpp), values to 6 significant digits,
so that tst_lessons can replay it through the lesson.

usage: trim.py resources/lessons/ID.json RECORDED.csv > tests/data/lessons/ID-seedN.csv
"""
import csv, json, re, sys

WARNING_INPUTS = {"eval/response_tokens", "eval/rewards/margins", "frac_reward_zero_std", "gold/reward",
                  "judge/identical_share", "judge/untrainable_share", "kl/exact", "kl/k1", "objective/entropy",
                  "objective/kl", "objective/scores", "rewards/margins"}

lesson_text = open(sys.argv[1]).read()
lesson = json.loads(lesson_text)
keys = set(WARNING_INPUTS)
keys |= set(re.findall(r'"(?:metric|plot)":\s*"([^"]+)"', lesson_text))
for text in re.findall(r'\{([^{}"]+)\}', lesson_text):
    for part in text.split(":"):
        if "/" in part or part in ("loss", "reward", "kl"):
            keys.add(part)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["run", "step", "name", "value"])
for row in csv.DictReader(open(sys.argv[2])):
    if row["name"] in keys:
        out.writerow([row["run"], row["step"], row["name"], "%.6g" % float(row["value"])])
