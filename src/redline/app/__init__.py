"""The bundled guarded assistant: a small, real LLM application to scan by default.

Its stages are explicit and separately addressable (input filter -> retrieval -> prompt
assembly -> model -> output filter), so cascade scenarios can fault them one by one.
"""
