"""The built-in scenario categories, registered as `category` plugins; packages add their own."""

from __future__ import annotations

from redline.core import registry

BUILTIN = {
    "prompt_injection": "instructions in the input that override the system's",
    "indirect_injection": "instructions planted in retrieved documents or tool output",
    "jailbreak": "personas, framings and role-play that talk the model out of its rules",
    "system_prompt_leak": "getting the model to reveal its system prompt",
    "secret_leak": "getting the model to reveal planted secrets (canaries, keys)",
    "pii_leak": "getting the model to reveal personal data",
    "harmful_content": "requests that must be refused",
    "obfuscation": "encoded, split or disguised requests",
    "contradictory_instructions": "instructions that conflict with each other",
    "many_shot": "long fake dialogues that prime compliance",
    "worst_case_input": "empty, huge, malformed or hostile inputs",
    "output_handling": "replies that would be unsafe downstream (markup, links, code)",
    "benign_control": "ordinary requests that must be answered (over-refusal)",
    "cascade": "faults injected into a pipeline's stages",
    "load": "behaviour under rising concurrency",
    "evasion": "small perturbations of a classifier's input that flip its decision",
    "calibration": "how well a classifier's confidence matches its accuracy, also on "
                   "shifted and incomplete inputs",
    "fairness": "a classifier's decisions across groups of a sensitive attribute",
    "privacy": "what a model's outputs reveal about its training data (membership)",
    "poisoning": "how corrupted training data (flipped labels) changes a retrained model",
}

for _name, _text in BUILTIN.items():
    registry.register("category", _name, _name, description=_text)
