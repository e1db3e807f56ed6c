"""M/M/1 in Ciw, the same queue as capsim's examples/mm1.rs.

One node, exponential inter-arrival times of rate LAMBDA and service times of rate MU, one
server, first come first served, starting empty. Ciw runs until CUSTOMERS customers have
finished service (`simulate_until_max_customers(..., method="Finish")`), so every counted
customer's wait is complete.

Prints one JSON line: customers, mean_wait_in_queue, wall_seconds (the simulation alone, not
collecting the records), customers_per_second.

    python mm1_ciw.py --customers 100000 --arrival-rate 0.9 --service-rate 1.0 --seed 1
"""

import argparse
import json
import time

import ciw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--arrival-rate", type=float, default=0.9)
    ap.add_argument("--service-rate", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    n = args.customers
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=args.arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=args.service_rate)],
        number_of_servers=[1],
    )
    ciw.seed(args.seed)
    sim = ciw.Simulation(network)
    started = time.perf_counter()
    sim.simulate_until_max_customers(n, method="Finish")
    wall = time.perf_counter() - started
    records = sim.get_all_records()
    waits = [r.waiting_time for r in records]
    print(
        json.dumps(
            {
                "simulator": "ciw " + ciw.__version__,
                "customers": len(waits),
                "mean_wait_in_queue": sum(waits) / len(waits),
                "wall_seconds": wall,
                "customers_per_second": len(waits) / wall,
            }
        )
    )


if __name__ == "__main__":
    main()
