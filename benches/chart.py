"""Draws BENCHMARKS.md's chart from the benchmarks' own JSON output.

    python3 benches/chart.py OUT.png RESULTS.json [RESULTS.json ...]

Each RESULTS.json is what `cargo bench --bench crud -- --json FILE` (or
crud_postgres) wrote: per phase, the median ops/s of people and of its rival
(the rival's fastest form), and the median of the per-round ratios. One row of
two panels per file: the rates side by side (log scale), and people/rival with
the line at 1.0 (parity) and at 0.95 (the target).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file
import matplotlib.pyplot as plt  # noqa: E402


def main(out, paths):
    results = [json.load(open(path)) for path in paths]
    fig, rows = plt.subplots(
        len(results), 2, figsize=(13, 4.2 * len(results)), squeeze=False
    )
    for (rates_ax, ratio_ax), result in zip(rows, results):
        phases = [p["phase"] for p in result["phases"]]
        x = range(len(phases))
        width = 0.38
        rates_ax.bar(
            [i - width / 2 for i in x],
            [p["people"] for p in result["phases"]],
            width,
            label="people",
            color="#2b6cb0",
        )
        rates_ax.bar(
            [i + width / 2 for i in x],
            [p["rival"] for p in result["phases"]],
            width,
            label=f"{result['rival']} (fastest form)",
            color="#a0aec0",
        )
        rates_ax.set_yscale("log")
        rates_ax.set_ylabel("operations per second (log)")
        rates_ax.set_xticks(list(x), phases, rotation=25, ha="right")
        # The backend's own version string can be long: its first words.
        backend = " ".join(result["backend"].split(",")[0].split()[:2])
        rates_ax.set_title(f"{backend}: people vs {result['rival']}, N = {result['n']:,}")
        rates_ax.legend(loc="upper right", fontsize=8)

        ratios = [p["ratio"] for p in result["phases"]]
        colors = ["#2f855a" if r >= 0.95 else "#c53030" for r in ratios]
        ratio_ax.bar(list(x), ratios, 0.6, color=colors)
        ratio_ax.axhline(1.0, color="black", linewidth=1, label="1.0: parity")
        ratio_ax.axhline(0.95, color="gray", linewidth=1, linestyle="--", label="0.95: target")
        for i, r in zip(x, ratios):
            ratio_ax.text(i, r, f"{r:.2f}", ha="center", va="bottom", fontsize=8)
        ratio_ax.set_ylabel(f"people / {result['rival']}")
        ratio_ax.set_ylim(0, max(1.3, max(ratios) * 1.15))
        ratio_ax.set_xticks(list(x), phases, rotation=25, ha="right")
        ratio_ax.set_title(
            f"median of {result['rounds']} round(s), {result['started']}"
        )
        ratio_ax.legend(loc="upper left", fontsize=8, ncols=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
