#!/usr/bin/env python3
"""Renders every template of cases.json with Jinja2 (the reference) and
writes golden.json, which golden_test.go compares kura's renderer against.

The environment is LangChain's for jinja2 prompt templates: a
SandboxedEnvironment with Jinja2's defaults (no autoescape, trim_blocks and
lstrip_blocks off, one trailing newline dropped).

usage (from this directory): python3 golden.py"""
import json
from jinja2.sandbox import SandboxedEnvironment

cases = json.load(open("cases.json", encoding="utf-8"))
env = SandboxedEnvironment()
out = []
for c in cases:
    try:
        got = {"out": env.from_string(c["template"]).render(**c["vars"])}
    except Exception as e:  # a case Jinja2 itself rejects is kept, to check kura rejects it too
        got = {"error": type(e).__name__}
    out.append({"name": c["name"], **got})
json.dump(out, open("golden.json", "w", encoding="utf-8"), ensure_ascii=False, indent=1)
print(f"{len(out)} cases")
