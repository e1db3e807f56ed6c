"""M/M/1 in SimPy, the same queue as capsim's examples/mm1.rs.

Customers arrive in a Poisson process of rate LAMBDA, wait in one first-come first-served line
and are served by one server with exponential service times of rate MU. The queue starts
empty; arrivals stop after CUSTOMERS and the queue drains, so every customer's wait is
complete (as in capsim). Idiomatic SimPy: one process per customer and a Resource.

Prints one JSON line: customers, mean_wait_in_queue, wall_seconds (env.run alone),
customers_per_second.

    python mm1_simpy.py --customers 1000000 --arrival-rate 0.9 --service-rate 1.0 --seed 1
"""

import argparse
import json
import random
import time

import simpy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--arrival-rate", type=float, default=0.9)
    ap.add_argument("--service-rate", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    lam, mu, n = args.arrival_rate, args.service_rate, args.customers
    arrivals = random.Random(args.seed)
    services = random.Random(args.seed + 1_000_003)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    totals = {"wait": 0.0, "served": 0}

    def customer(env, service_time):
        arrived = env.now
        with server.request() as req:
            yield req
            totals["wait"] += env.now - arrived
            yield env.timeout(service_time)
        totals["served"] += 1

    def source(env):
        for _ in range(n):
            yield env.timeout(arrivals.expovariate(lam))
            # Service time drawn at arrival, as capsim does.
            env.process(customer(env, services.expovariate(mu)))

    env.process(source(env))
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    assert totals["served"] == n
    print(
        json.dumps(
            {
                "simulator": "simpy " + simpy.__version__,
                "customers": n,
                "mean_wait_in_queue": totals["wait"] / n,
                "wall_seconds": wall,
                "customers_per_second": n / wall,
            }
        )
    )


if __name__ == "__main__":
    main()
