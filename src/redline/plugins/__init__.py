"""The built-in plugins: each registers itself in `redline.core.registry` under a kind.

targets       target kinds (demo, openai, http, python, local, classifier, cassette, ...)
              and `redline serve`
detectors     offline, deterministic detectors and the optional LLM judges
mutators      seeded input transformations
generators    seeded input generators (worst cases)
fault_spec    what a fault is and when it is on (its schedule)
faults        seeded, scheduled faults and the middleware that injects them
ray_executor  the `ray` executor (a scan's attempts on a Ray cluster)
"""
