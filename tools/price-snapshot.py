#!/usr/bin/env python3
"""Regenerate agentwatch's embedded price snapshot from LiteLLM's public price list.

This is a developer tool: agentwatch itself never touches the network. It takes
LiteLLM's `model_prices_and_context_window.json` (shipped inside the `litellm`
wheel on PyPI, or given as a file), keeps the token-priced chat models of the
providers coding agents use, keeps only the price fields agentwatch reads, and
writes crates/agentwatch-core/src/pricing/snapshot.json with the list's date.

    tools/price-snapshot.py                      # litellm 1.102.0 from PyPI
    tools/price-snapshot.py --litellm 1.110.0    # another release
    tools/price-snapshot.py --from prices.json --date 2026-10-01
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

PROVIDERS = {
    "anthropic", "openai", "text-completion-openai", "gemini", "xai", "deepseek",
    "mistral", "moonshot", "zai", "minimax", "vertex_ai-language-models", "dashscope",
}
MODES = {"chat", "responses", "completion", None}
FIELDS = [
    "input_cost_per_token", "output_cost_per_token",
    "cache_creation_input_token_cost", "cache_creation_input_token_cost_above_1hr",
    "cache_read_input_token_cost",
    "input_cost_per_token_above_200k_tokens", "output_cost_per_token_above_200k_tokens",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_creation_input_token_cost_above_1hr_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens",
    "litellm_provider",
]
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/agentwatch-core/src/pricing/snapshot.json"


def from_pypi(version: str):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", f"litellm=={version}", "--no-deps",
                        "-q", "-d", tmp], check=True)
        wheel = next(pathlib.Path(tmp).glob("litellm-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            data = json.loads(z.read("litellm/model_prices_and_context_window_backup.json"))
    meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/litellm/json", timeout=60))
    date = meta["releases"][version][0]["upload_time"][:10]
    return data, date, f"LiteLLM model_prices_and_context_window.json from litellm {version} (PyPI)"


def first_tier(entry):
    """DashScope's Qwen models are priced by the prompt's size
    (`tiered_pricing`: 0-32k tokens, 32k-128k, …). agentwatch prices a model
    with one set of prices (and Anthropic's and Gemini's 200k tier), so such
    an entry keeps the prices of its first tier, as ccusage prices them.
    Calls with a longer prompt cost more than that: bench/README.md, Parity."""
    tiers = entry.get("tiered_pricing")
    if "input_cost_per_token" in entry or not isinstance(tiers, list):
        return entry
    first = next((t for t in tiers if isinstance(t, dict) and (t.get("range") or [None])[0] == 0), None)
    if first is None:
        return entry
    flat = {k: v for k, v in entry.items() if k != "tiered_pricing"}
    for k in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost",
              "cache_creation_input_token_cost"):
        if k in first:
            flat[k] = first[k]
    return flat


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--litellm", default="1.102.0", help="litellm release on PyPI")
    ap.add_argument("--from", dest="src", help="a LiteLLM price JSON file instead of PyPI")
    ap.add_argument("--date", help="the list's date (YYYY-MM-DD); required with --from")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args()
    if a.src:
        if not a.date:
            ap.error("--date is required with --from")
        data, date, source = json.load(open(a.src)), a.date, f"LiteLLM price list {a.src}"
    else:
        data, date, source = from_pypi(a.litellm)
    models = {}
    for name, entry in sorted(data.items()):
        if not isinstance(entry, dict) or entry.get("litellm_provider") not in PROVIDERS:
            continue
        if entry.get("mode") not in MODES:
            continue
        entry = first_tier(entry)
        if "input_cost_per_token" not in entry:
            continue
        kept = {k: entry[k] for k in FIELDS if k in entry}
        fast = (entry.get("provider_specific_entry") or {}).get("fast")
        if fast:
            kept["provider_specific_entry"] = {"fast": fast}
        models[name] = kept
    out = {"source": source, "date": date, "models": models}
    pathlib.Path(a.out).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{len(models)} models, dated {date} -> {a.out}")


if __name__ == "__main__":
    main()
