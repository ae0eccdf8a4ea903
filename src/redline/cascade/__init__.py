"""Cascading failures and load: fault a pipeline stage by stage and watch what reaches the user.

schema      cascade and load scenario bodies under the one scenario header
experiment  steady state -> fault -> hypothesis again -> rollback -> recovery (a schedule)
journal     what an experiment found: blast radius, propagation, detection, recovery
judge       what the user saw, judged with redline's one judge
chaos       `redline chaos`: experiments run, stored, journaled and reported
            (`experiment_journal`: one experiment and its journal)
load        concurrency ramps, latency percentiles and the knee
loadtest    `redline load`: build the system under test, ramp it clean and faulted
record      cascade and load runs into the store and the reports

The pipelines they run against are in `redline.pipeline`, the faults in
`redline.plugins.fault_spec` (what a fault is) and `redline.plugins.faults` (injecting it),
the demo app's assembly settings (a scenario's `system:`) in `redline.demo.settings`.
"""
