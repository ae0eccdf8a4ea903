"""An ONNX classifier behind `predict_proba(rows)`, run by onnxruntime (the `onnx` extra).

Three input layouts are understood, as converters (skl2onnx, tf2onnx, torch.onnx) write them:
- one numeric tensor `[N, F]`: each row's features in the order `features` gives (required,
  unless the model names them in its metadata as `feature_names`, comma-separated);
- one string tensor `[N]` or `[N, 1]`: a text model, fed each request's text;
- one input per feature, each `[N, 1]` (skl2onnx's layout for a pipeline over named
  columns): each input is fed the feature of its name, typed as the input is declared.

Probabilities are the first output that is a float tensor `[N, C]` or a sequence of
class -> probability maps (skl2onnx's ZipMap). Class names come from `classes`, else from the
ZipMap's labels (read with the `onnx` package when it is installed), else "0", "1", ...;
configured classes name a ZipMap's labels by position when they are not those labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.classic.errors import PredictError
from redline.core.errors import UsageError

NUMPY_OF = {"tensor(float)": "float32", "tensor(double)": "float64",
            "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(string)": "object"}


@dataclass
class OnnxModel:
    session: Any
    inputs: tuple[tuple[str, str, int], ...]  # (name, onnx type, rank)
    output: str
    classes_: tuple[str, ...]
    feature_order: tuple[str, ...] | None
    takes_rows = True

    @property
    def per_feature(self) -> bool:
        return len(self.inputs) > 1

    @property
    def feature_names_in_(self) -> tuple[str, ...] | None:
        if self.per_feature:
            return tuple(name for name, _, _ in self.inputs)
        return self.feature_order

    def predict_proba(self, rows: Sequence[Mapping[str, Any] | str]) -> Any:
        import numpy as np

        feed = self._feed(rows, np)
        try:
            (out,) = self.session.run([self.output], feed)
        except Exception as exc:  # onnxruntime's own message names the bad input
            raise PredictError(f"onnxruntime: {exc}") from None
        if isinstance(out, list):  # a sequence of maps (ZipMap)
            return np.asarray([_in_class_order(m, self.classes_) for m in out])
        return np.asarray(out, dtype=float)

    def _feed(self, rows: Sequence[Mapping[str, Any] | str], np: Any) -> dict[str, Any]:
        if self.per_feature:
            if not all(isinstance(r, Mapping) for r in rows):
                raise PredictError("this ONNX model takes named features")
            return {name: _column([r[name] for r in rows], kind, np)  # type: ignore[index]
                    for name, kind, _ in self.inputs}
        name, kind, rank = self.inputs[0]
        if kind == "tensor(string)":
            if not all(isinstance(r, str) for r in rows):
                raise PredictError("this ONNX model is a text model: send 'text'")
            values = np.asarray(list(rows), dtype=object)
            return {name: values.reshape(-1, 1) if rank == 2 else values}
        if self.feature_order is None:
            raise PredictError("the feature order is unknown: give `features`")
        try:
            matrix = [[float(r[f]) for f in self.feature_order] for r in rows]  # type: ignore[index]
        except (TypeError, ValueError) as exc:
            raise PredictError(f"a feature is not a number: {exc}") from None
        return {name: np.asarray(matrix, dtype=NUMPY_OF.get(kind, "float32"))}


def _in_class_order(mapping: Mapping[Any, float], classes: Sequence[str]) -> list[float]:
    """A ZipMap row's probabilities in `classes` order: by label when the map's labels are
    the class names, else by position (configured classes rename the graph's labels, as they
    name predict_proba's columns: a model trained on 0/1 with `classes: [deny, approve]`)."""
    named = {str(k): float(v) for k, v in mapping.items()}
    if set(named) == set(classes):
        return [named[c] for c in classes]
    if len(named) != len(classes):
        raise PredictError(f"the model gives {len(named)} class probabilities "
                           f"({', '.join(named)}) for {len(classes)} classes "
                           f"({', '.join(classes)})")
    return list(named.values())


def _column(values: list[Any], kind: str, np: Any) -> Any:
    dtype = NUMPY_OF.get(kind)
    if dtype is None:
        raise PredictError(f"an input of type {kind} is not supported")
    try:
        column = [str(v) for v in values] if dtype == "object" else values
        return np.asarray(column, dtype=dtype).reshape(-1, 1)
    except (TypeError, ValueError) as exc:
        raise PredictError(f"a feature does not fit {kind}: {exc}") from None


def load_onnx(path: Path, classes: Sequence[str] | None = None,
              features: Sequence[str] | None = None) -> OnnxModel:
    """An OnnxModel from a file; a UsageError names the file and what does not fit."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise UsageError(f"{path}: running ONNX models needs onnxruntime: install the onnx "
                         "extra (pip install 'redline[onnx]')") from None
    options = ort.SessionOptions()
    options.log_severity_level = 4  # its errors come back as the UsageError below
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UsageError(f"{path}: not a loadable ONNX model: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    inputs = tuple((i.name, i.type, len(i.shape or ())) for i in session.get_inputs())
    output = _probability_output(path, session)
    names = tuple(classes) if classes else _zipmap_labels(path) or _positional(session, output)
    meta = session.get_modelmeta().custom_metadata_map or {}
    order = tuple(features) if features else (
        tuple(n.strip() for n in meta["feature_names"].split(",")) if "feature_names" in meta
        else None)
    if len(inputs) > 1 and any(rank != 2 for _, _, rank in inputs):
        raise UsageError(f"{path}: several inputs, but not one [N, 1] column per feature")
    return OnnxModel(session, inputs, output, names, order)


def _probability_output(path: Path, session: Any) -> str:
    for out in session.get_outputs():
        if out.type.startswith("seq(map(") or (out.type in ("tensor(float)", "tensor(double)")
                                               and len(out.shape or ()) == 2):
            return str(out.name)
    raise UsageError(f"{path}: no output of class probabilities (a [N, C] float tensor or a "
                     "sequence of maps)")


def _zipmap_labels(path: Path) -> tuple[str, ...]:
    try:
        import onnx
    except ImportError:
        return ()
    graph = onnx.load(str(path), load_external_data=False).graph
    for node in graph.node:
        if node.op_type == "ZipMap":
            for attr in node.attribute:
                if attr.name == "classlabels_strings":
                    return tuple(s.decode() for s in attr.strings)
                if attr.name == "classlabels_int64s":
                    return tuple(str(i) for i in attr.ints)
    return ()


def _positional(session: Any, output: str) -> tuple[str, ...]:
    out = next(o for o in session.get_outputs() if o.name == output)
    width = (out.shape or [None, None])[-1]
    if not isinstance(width, int):
        return ()
    return tuple(str(i) for i in range(width))
