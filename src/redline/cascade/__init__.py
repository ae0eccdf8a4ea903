"""Cascading failures and load: fault a pipeline stage by stage and watch what reaches the user.

schema      cascade scenario files (stage, fault, schedule, hypothesis, expectation)
faults      seeded, scheduled faults and the in-process stage wrappers that inject them
proxy       a fault-injecting reverse proxy on 127.0.0.1 for HTTP dependencies
loopback    run a starlette app on an ephemeral loopback port in a background thread
stand_in    a fast, deterministic, naive stand-in for the app's LLM
stages      what a pipeline declares of its stages; the `pipeline` plugins (demo is one)
system      assemble the system under test (the guarded app, its services, the proxies)
pipeline    declared pipelines of named stages (Python callables or HTTP services)
judge       what the user saw, judged with redline's detectors
experiment  steady state -> fault -> hypothesis again -> rollback -> recovery (a schedule)
journal     what an experiment found: blast radius, propagation, detection, recovery
load        concurrency ramps, latency percentiles and the knee
record      cascade and load runs into the store and the reports
"""

from typing import Literal

# the guarded app's model: the scripted stand-in (fast) or the bundled LLM (slow)
AppModel = Literal["stand-in", "local"]
