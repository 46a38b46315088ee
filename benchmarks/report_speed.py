"""Markdown tables from bench_speed.py's CSV, with skvae / PyOD throughput ratios.

Usage::

    python benchmarks/report_speed.py benchmarks/results/speed.csv
"""

import argparse

import pandas as pd

DETECTOR = "VAEAnomalyDetector"


def peer_rate(frame, table, rows, cols, method, column):
    """A peer's rate on this table, or on the largest one it was measured on."""
    same = frame[
        (frame.table == table)
        & (frame.cols == cols)
        & (frame.method == method)
        & (frame.rows <= rows)
    ]
    if same.empty:
        return float("nan")
    return same.sort_values("rows")[column].iloc[-1]


def throughput_table(frame):
    skvae = frame[frame.method.str.startswith("VAE")].copy()
    lines = [
        "| table | rows | cols | estimator | train rows·epochs/s | score rows/s "
        "| train % of matmul | score % of matmul |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in skvae.itertuples():
        lines.append(
            f"| {row.table} | {int(row.rows):,} | {int(row.cols)} | {row.method} "
            f"| {row.train_rows_epochs_per_s:,.0f} | {row.score_rows_per_s:,.0f} "
            f"| {100 * row.train_share_of_matmul:.1f} "
            f"| {100 * row.score_share_of_matmul:.1f} |"
        )
    return "\n".join(lines)


def ratio_table(frame):
    detector = frame[frame.method == DETECTOR]
    peers = [
        "pyod_vae",
        "pyod_vae_matched",
        "pyod_vae_matched_b256",
        "pyod_ae",
        "pyod_ae_matched",
    ]
    header = " | ".join(f"{p} train (×) | {p} score (×)" for p in peers)
    lines = [
        f"| table | rows | cols | skvae train | skvae score | {header} |",
        "|---|---:|---:|---:|---:|" + "---:|" * (2 * len(peers)),
    ]
    for row in detector.itertuples():
        cells = []
        for peer in peers:
            for column, own in (
                ("train_rows_epochs_per_s", row.train_rows_epochs_per_s),
                ("score_rows_per_s", row.score_rows_per_s),
            ):
                rate = peer_rate(frame, row.table, row.rows, row.cols, peer, column)
                cells.append(f"{rate:,.0f} ({own / rate:.1f}×)")
        lines.append(
            f"| {row.table} | {int(row.rows):,} | {int(row.cols)} "
            f"| {row.train_rows_epochs_per_s:,.0f} | {row.score_rows_per_s:,.0f} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv")
    frame = pd.read_csv(parser.parse_args().csv)
    hardware = frame[frame.section == "hardware"].iloc[0]
    print(
        f"Matmul reference: {hardware.gflops:.1f} GFLOP/s "
        f"({hardware.method}, {int(hardware.threads)} threads)\n"
    )
    throughput = frame[frame.section == "throughput"]
    if not throughput.empty:
        print(throughput_table(throughput), "\n")
        print(ratio_table(throughput), "\n")
    memory = frame[frame.section == "memory"]
    for row in memory.itertuples():
        print(
            f"- {row.method} on {int(row.rows):,} x {int(row.cols)}: peak "
            f"{row.peak_mib_above_input:,.0f} MiB above the start "
            f"(input array {row.input_mib:,.0f} MiB)"
        )
    suite = frame[frame.section == "suite"]
    if not suite.empty:
        totals = suite.groupby("method").fit_s.sum()
        print()
        for method, total in totals.items():
            print(f"- dev suite, seed-0 splits, total fit: {method} {total:,.1f} s")
        if {"skvae", "pyod_vae"} <= set(totals.index):
            print(f"- ratio PyOD VAE / skvae: {totals.pyod_vae / totals.skvae:.1f}×")
        wide = suite.assign(rows=suite.rows.astype(int)).pivot_table(
            index=["table", "rows"], columns="method", values="fit_s"
        )
        wide["pyod_vae / skvae"] = wide.get("pyod_vae") / wide.get("skvae")
        print()
        print(wide.round(2).to_markdown())


if __name__ == "__main__":
    main()
