"""What stored results say, whatever kind of run made them.

summary   per-scenario, per-category and per-severity tallies and rates
latency   percentiles for latencies
training  training data from findings (attack, unsafe reply, safe reply)
"""
