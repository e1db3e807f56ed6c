"""Summarises bench/peers/run.sh's JSON lines: speed, ratios and the mean-wait check.

Tolerance. The standard error of the mean wait in queue of an M/M/1 run at rho = 0.9 that
starts empty was measured as 2.21% of Erlang C's Wq at 10^6 customers (20 capsim seeds:
mean 8.912, standard deviation 0.199, Wq = 9). It shrinks as 1/sqrt(customers), so for a run
of n customers it is SE(n) = 0.0221 * sqrt(10^6 / n) * Wq (the constant holds at rho = 0.9
only; at other loads the check is indicative). Each simulator must lie within 4 SE(n) of
Erlang C, and each pair within 4 sqrt(SE(a)^2 + SE(b)^2) of each other: a false alarm about
once in 16,000 checks.
"""

import argparse
import json
import math
import statistics
import sys

REL_SE_AT_1M = 0.0221
K = 4.0


def erlang_c_wq(lam: float, mu: float) -> float:
    """M/M/1 mean wait in queue, Wq = rho / (mu - lambda)."""
    return (lam / mu) / (mu - lam)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arrival-rate", type=float, required=True)
    ap.add_argument("--service-rate", type=float, required=True)
    ap.add_argument("results")
    args = ap.parse_args()
    wq = erlang_c_wq(args.arrival_rate, args.service_rate)

    runs: dict[str, list[dict]] = {}
    for line in open(args.results, encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            runs.setdefault(d["simulator"].split()[0], []).append(d)
    order = [name for name in ("capsim", "simpy", "ciw") if name in runs]

    rows = {}
    for name in order:
        rs = runs[name]
        rows[name] = {
            "label": rs[0]["simulator"],
            "customers": rs[0]["customers"],
            "wait": rs[0]["mean_wait_in_queue"],
            "rate": statistics.median(r["customers_per_second"] for r in rs),
            "wall": statistics.median(r["wall_seconds"] for r in rs),
            "repeats": len(rs),
        }

    def se(n: int) -> float:
        return REL_SE_AT_1M * math.sqrt(1e6 / n) * wq

    print(f"M/M/1, lambda = {args.arrival_rate}, mu = {args.service_rate}; "
          f"Erlang C Wq = {wq:.4f}")
    print(f"{'simulator':<14} {'customers':>10} {'wall s':>9} {'customers/s':>13} "
          f"{'mean wait':>10} {'vs Wq':>8} {'tolerance':>10}")
    ok = True
    for name in order:
        r = rows[name]
        tol = K * se(r["customers"])
        good = abs(r["wait"] - wq) <= tol
        ok &= good
        print(f"{r['label']:<14} {r['customers']:>10} {r['wall']:>9.3f} {r['rate']:>13,.0f} "
              f"{r['wait']:>10.4f} {(r['wait'] - wq) / wq:>+8.2%} {'±' + format(tol / wq, '.1%'):>10}"
              f"  {'ok' if good else 'FAIL'}")
    if "capsim" in rows:
        for name in order[1:]:
            ratio = rows["capsim"]["rate"] / rows[name]["rate"]
            print(f"capsim / {name}: {ratio:,.0f}x customers per second")
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            ra, rb = rows[a], rows[b]
            tol = K * math.hypot(se(ra["customers"]), se(rb["customers"]))
            diff = ra["wait"] - rb["wait"]
            good = abs(diff) <= tol
            ok &= good
            print(f"mean wait {a} - {b}: {diff:+.4f} (tolerance ±{tol:.4f}) "
                  f"{'ok' if good else 'FAIL'}")
    print("all mean waits agree" if ok else "MEAN WAITS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
