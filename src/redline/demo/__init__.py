"""The bundled guarded assistant: a small, real LLM application to scan by default.

Its stages are explicit and separately addressable (input filter -> retrieval -> prompt
assembly -> model -> output filter), so cascade scenarios can fault them one by one.
"""

from typing import Literal

# the guarded app's model: the scripted stand-in (fast) or the bundled LLM (slow)
AppModel = Literal["stand-in", "local"]
