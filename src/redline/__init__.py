"""redline: a pre-release safety gate for ML models and the applications built on them.

The packages, in the order a run flows through them:

catalog     the scenarios: the one header and its kinds, categories, suites, the built-in
            catalog and imported sets
core        the run itself: plain data (models), the registry, attempts from a seed, the one
            engine, schedules, strategies, the one judge, the scan that wires them
plugins     what the registry holds: targets, detectors, mutators, generators, faults,
            executors
attack      adaptive attackers (PAIR, TAP, Crescendo, best-of-N, many-shot)
classic     classifiers as targets and the checks made on them (evasion, calibration,
            slices, membership, label flips)
pipeline    targets made of named stages, assembled and faulted (proxies, traces)
cascade     cascade experiments and load ramps: the schedules run against a pipeline
demo        the bundled guarded assistant (the default target) and its stand-in model
store       every record of a run, chained as written (SQLite, PostgreSQL)
evidence    verify, sign, time-stamp, bundle, redact, replay and review a stored run
analysis    what stored results say: tallies, latency statistics, training data
gate        evidence + policy (+ baseline) -> approve / block / roll back / hold
report      terminal, JSON, JUnit XML and HTML reports of a run
monitor     after release: production logs, drift and recurring attacks
view        a read-only local web viewer over the store
cli         the `redline` command line, one module per command group
"""

__version__ = "0.1.0"
