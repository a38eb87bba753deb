"""Draws BENCHMARKS.md's chart from the benchmarks' own JSON output.

    python3 benches/chart.py OUT.png RESULTS.json [RESULTS.json ...]

Each RESULTS.json is what `cargo bench --bench crud -- --json FILE` (or
crud_postgres) wrote: per phase, the median ops/s of people and of its rival
(the rival's fastest form), the median of the per-round ratios, and each
round's ratio. One row of two panels per file: the rates side by side (log
scale), and people/rival with the line at 1.0 (parity) and at 0.95 (the
target). The ratio bars are the medians; a whisker spans the lowest to the
highest round, and a dot marks each round, so that a reader sees how far one
run's rounds lie apart on this machine.
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
        rounds = [p["round_ratios"] for p in result["phases"]]
        colors = ["#2f855a" if r >= 0.95 else "#c53030" for r in ratios]
        ratio_ax.bar(list(x), ratios, 0.6, color=colors, alpha=0.75)
        ratio_ax.vlines(
            list(x),
            [min(r) for r in rounds],
            [max(r) for r in rounds],
            color="black",
            linewidth=1,
        )
        for i, per_round in zip(x, rounds):
            ratio_ax.plot(
                [i] * len(per_round), per_round, "o", color="black", markersize=3,
                label="one round" if i == 0 else None,
            )
        ratio_ax.axhline(1.0, color="black", linewidth=1, label="1.0: parity")
        ratio_ax.axhline(0.95, color="gray", linewidth=1, linestyle="--", label="0.95: target")
        for i, r in zip(x, ratios):
            # Beside the bar, clear of its whisker.
            ratio_ax.text(i + 0.32, r, f"{r:.2f}", ha="left", va="center", fontsize=8)
        ratio_ax.set_ylabel(f"people / {result['rival']}")
        highest = max(max(r) for r in rounds)
        ratio_ax.set_ylim(0, max(1.3, highest * 1.15))
        ratio_ax.set_xlim(-0.5, len(phases) - 0.1)  # room for the last bar's label
        ratio_ax.set_xticks(list(x), phases, rotation=25, ha="right")
        ratio_ax.set_title(
            f"median of {result['rounds']} round(s), whisker: lowest to highest\n{result['started']}",
            fontsize=10,
        )
        ratio_ax.legend(loc="upper left", fontsize=8, ncols=3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
