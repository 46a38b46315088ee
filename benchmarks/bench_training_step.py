"""Time one optimiser step of skvae's network under the levers the speed work tried.

Each line changes one thing from skvae's training loop (fused Adam called
directly, ``adam_step``, where ``adam="fused"`` goes through torch's
``Optimizer.step``; batches as
contiguous slices of a once-per-epoch shuffled copy, ELU, 64-32 hidden layers,
a 30-column table) and reports milliseconds per step and rows per second, the
best of three repeats of 300 steps. ``--compile`` adds ``torch.compile`` of the
loss (its compile time is reported separately; it is slow on CPU).

Usage::

    python benchmarks/bench_training_step.py --out benchmarks/results/training_step.csv
"""

import argparse
import time

import pandas as pd
import torch

from skvae._network import TabularVAE
from skvae._training import adam_step, clear_gradients, negative_elbo

N_ROWS = 100_000
STEPS = 300


def make_step(module, X, batch_size, optimizer, gather, loss_fn, direct):
    """A step function cycling through the rows the way ``gather`` says."""
    order = torch.randperm(N_ROWS)
    shuffled = X.index_select(0, order)
    position = [0]

    def step():
        start = position[0]
        position[0] = (start + batch_size) % (N_ROWS - batch_size)
        if gather == "slice":
            x = shuffled[start : start + batch_size]
        else:
            x = X[order[start : start + batch_size]]
        loss = loss_fn(module, x)
        if direct:
            clear_gradients(optimizer)
            loss.backward()
            adam_step(optimizer)
        else:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return step


def time_steps(step):
    for _ in range(10):
        step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        best = min(best, (time.perf_counter() - start) / STEPS)
    return best


def measure(
    batch_size=256,
    adam="direct",
    gather="slice",
    activation="elu",
    n_cols=30,
    threads=None,
    compiled=False,
):
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        X = torch.randn(N_ROWS, n_cols)
        module = TabularVAE(n_cols, 0, [], 7, (64, 32), activation=activation)
        kind = "fused" if adam == "direct" else adam
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, **{kind: True})
        loss_fn = negative_elbo
        compile_s = None
        if compiled:
            loss_fn = torch.compile(negative_elbo)
            start = time.perf_counter()
            loss_fn(module, X[:batch_size]).backward()
            compile_s = time.perf_counter() - start
        step = make_step(
            module, X, batch_size, optimizer, gather, loss_fn, adam == "direct"
        )
        seconds = time_steps(step)
    finally:
        torch.set_num_threads(previous)
    return dict(
        batch_size=batch_size,
        adam=adam,
        gather=gather,
        activation=activation,
        n_cols=n_cols,
        threads=threads or previous,
        compiled=compiled,
        ms_per_step=1e3 * seconds,
        rows_per_s=batch_size / seconds,
        compile_s=compile_s,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    variants = [
        {},
        {"adam": "fused"},
        {"adam": "fused", "threads": 1},
        {"adam": "foreach"},
        {"gather": "index"},
        {"adam": "foreach", "gather": "index"},
        {"threads": 1},
        *({"activation": a} for a in ("relu", "silu", "gelu", "tanh")),
        *({"batch_size": b} for b in (64, 1024, 4096)),
        *({"batch_size": b, "threads": 1} for b in (1024, 4096)),
        *({"batch_size": b, "activation": "relu"} for b in (1024, 4096)),
    ]
    if args.compile:
        variants += [{"compiled": True}, {"compiled": True, "batch_size": 4096}]
    rows = []
    for variant in variants:
        row = measure(**variant)
        rows.append(row)
        print(
            ", ".join(f"{k}={v}" for k, v in variant.items()) or "skvae's loop",
            f"{row['ms_per_step']:.3f} ms/step, {row['rows_per_s']:,.0f} rows/s",
            flush=True,
        )
    if args.out:
        pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
