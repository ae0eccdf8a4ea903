"""Evidence that cannot be forged, and what is done with it.

verify       check a run's chain, sign its head, export it (`redline verify/sign/export`)
keys         Ed25519 keys for the chain head's signature
tsa          trusted time for a signed head (RFC 3161 tokens)
bundle       the evidence bundle archive, written atomically
redaction    redacted bundles (PII and canaries masked, originals sealed)
credentials  the scan's own credentials never reach evidence
manifest     what ran, where, with what
replay       re-judge a recorded run from its cassette and compare
review       a person's label of an attempt, chained like any record
"""
