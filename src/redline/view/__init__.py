"""`redline view`: a read-only local web app over the store.

Pages: the runs; a run's categories, scenarios and attempts (filtered, searched and paged in
the store, so a page of a million-attempt run costs what a page of a small one does); an
attempt's transcript and evidence; the gate decision with its reasons and intervals; the
difference between two runs; the risk register; the chain verification status.

Everything a target said is attacker-controlled: templates autoescape, and the pages carry
a Content-Security-Policy that allows no script at all and nothing from another origin (the
one stylesheet is served by the app). It listens on loopback only and refuses requests
whose Host header is not a loopback name (DNS rebinding); another interface needs
`--expose`, and then every request needs the access token (see redline.view.guard).
"""
