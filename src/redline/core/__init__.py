"""The run itself: what every kind of run goes through, whatever it tests.

models      plain data between the stages: attempts, requests, responses, verdicts
registry    one registry for every pluggable kind (`@plugin(KIND, NAME, params=...)`)
errors      errors reported as a clear message, never a traceback
yamlfile    YAML files validated with pydantic, problems reported as file:line
paths       paths from user input, checked before any work is done
safetext    what may be printed to a terminal when a target or a file wrote it
config      the scan configuration: a YAML file overlaid by command-line options
attempts    scenarios expanded into attempts, deterministically from the run seed
strategies  what drives an attempt's turns (static, scripted, adaptive)
engine      the one run loop: concurrency, rate limits, time-outs, retries, executors
schedules   runs made of steps (phases, ramps, concurrency levels) over the engine
halting     stopping a run early: halt conditions and budgets
judging     the one judge: an attempt's responses -> pass, fail, unclear or error
plan        what a scan will run: a new run's plan, or a resumed run's or a replay's
scan        one scan: catalog -> attempts -> engine -> target -> judge -> store -> summary
"""
