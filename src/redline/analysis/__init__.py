"""What stored results say.

summary   per-scenario, per-category and per-severity tallies and rates
latency   percentiles for latencies
journal   an experiment's journal: timeline, blast radius, propagation, recovery
training  training data from findings (attack, unsafe reply, safe reply)
"""
