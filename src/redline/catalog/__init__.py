"""The scenario catalog: the built-in scenarios and user-supplied files, and suites of them.

schema       the one scenario header and the probe kind (other kinds register their own)
categories   the registered, open list of categories
prompt_sets  public prompt sets' file formats read as rows
importer     those rows as versioned catalog scenarios (`redline catalog import`)
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from redline.catalog.schema import Scenario, scenario_chooser
from redline.core.errors import InputFileError, Problem, UsageError
from redline.core.yamlfile import load_model, load_unique, load_yaml, yaml_files

BUILTIN_DIR = Path(__file__).parent / "scenarios"
# the classifier checks (evasion, calibration, fairness): their own suite, not in `default`
CLASSIC_DIR = Path(__file__).parent / "classic"
ATTACKS_DIR = Path(__file__).parent / "attacks"  # adaptive attacks: the `adaptive` suite
BUILTIN_SUITES = {"all", "default", "attacks", "benign", "classic", "adaptive"}


class SuiteFile(BaseModel):
    """A named selection of scenarios: id globs or `category:NAME`, minus exclusions."""

    model_config = ConfigDict(extra="forbid")
    suite: str
    include: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)
    scenarios_dir: str | None = None


scenario_files = yaml_files


def load_scenarios(paths: list[Path]) -> list[Scenario]:
    """Load and validate every scenario file; report every problem, not just the first.
    Each file is read as its `kind` (default probe): any kind built on the probe."""
    return load_unique(scenario_chooser(Scenario), paths)


def builtin_catalog() -> list[Scenario]:
    return load_scenarios(scenario_files(BUILTIN_DIR))


def _matches(scenario: Scenario, pattern: str) -> bool:
    if pattern.startswith("category:"):
        return scenario.category == pattern.split(":", 1)[1]
    if pattern.startswith("severity:"):
        return scenario.severity == pattern.split(":", 1)[1]
    return fnmatch.fnmatchcase(scenario.id, pattern)


def select(scenarios: list[Scenario], include: list[str], exclude: list[str]) -> list[Scenario]:
    return [
        s for s in scenarios
        if any(_matches(s, p) for p in include) and not any(_matches(s, p) for p in exclude)
    ]


def _suite_from_file(path: Path) -> list[Scenario]:
    data, _ = load_yaml(path)
    if isinstance(data, dict) and "suite" in data:
        suite = load_model(SuiteFile, path)
        base = builtin_catalog()
        if suite.scenarios_dir:
            base += load_scenarios(scenario_files(path.parent / suite.scenarios_dir))
        chosen = select(base, suite.include, suite.exclude)
        if not chosen:
            raise InputFileError([Problem(str(path), None, "include", "selects no scenario")])
        return chosen
    return load_scenarios([path])


def builtin_scenarios() -> list[Scenario]:
    """Every built-in scenario: the default catalog, the classifier checks and the adaptive
    attacks (each also a suite of its own: `classic`, `adaptive`)."""
    return [*builtin_catalog(), *load_scenarios(scenario_files(CLASSIC_DIR)),
            *load_scenarios(scenario_files(ATTACKS_DIR))]


def load_suite(name: str) -> list[Scenario]:
    """Resolve --suite: a built-in suite name, a category, a directory, or a YAML file."""
    path = Path(name)
    if path.exists():
        if path.is_dir():
            files = scenario_files(path)
            if not files:
                raise UsageError(f"no scenario files (*.yaml) under {path}")
            return load_scenarios(files)
        return _suite_from_file(path)
    if name == "classic":
        return load_scenarios(scenario_files(CLASSIC_DIR))
    if name == "adaptive":  # attacker-driven: slower, so not part of the default suite
        return load_scenarios(scenario_files(ATTACKS_DIR))
    catalog = builtin_catalog()
    if name in ("all", "default"):
        return catalog
    if name == "attacks":
        return [s for s in catalog if s.category != "benign_control"]
    if name == "benign":
        return [s for s in catalog if s.category == "benign_control"]
    chosen = select(catalog, [name, f"category:{name}"], [])
    if not chosen:
        categories = sorted({s.category for s in catalog})
        raise UsageError(
            f"unknown suite {name!r}: not a file, a built-in suite {sorted(BUILTIN_SUITES)}, "
            f"a category {categories} or a scenario id pattern"
        )
    return chosen
