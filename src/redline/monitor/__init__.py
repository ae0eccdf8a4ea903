"""After release: read production telemetry, watch it for drift and recurring attacks, and act.

logs.py      log sources (file, growing directory, stdin) and the two record formats
columns.py   what is measured per record (chat features, classifier features)
drift.py     reference vs current window: KS, chi-square, PSI, Holm correction
watch.py     the loop that feeds records through the columns and the drift checks
"""
