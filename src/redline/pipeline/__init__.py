"""Targets made of named stages, assembled and run, with fault proxies and traces.

declared  a pipeline declared in a file (stages that are Python callables or HTTP services),
          and choosing the pipeline a run names
stages    what a pipeline declares of its stages (cascade scenarios are checked against it)
system    the system under test assembled and running: stages, services, proxies
proxy     a fault-injecting reverse proxy for an HTTP dependency, on 127.0.0.1 only
loopback  an ASGI app on an ephemeral 127.0.0.1 port in a background thread
trace     which workload request a stage or a dependency is serving
"""
