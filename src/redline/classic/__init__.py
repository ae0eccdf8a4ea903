"""Classic ML models as targets: classifiers (tabular and text) and the checks made on them.

- `data`: tabular datasets (a generated credit-scoring set with a sensitive attribute and a
  planted bias; CSV files) as plain rows.
- `estimator`: any scikit-learn-compatible estimator (`predict_proba`) or a plain callable
  behind one `predict(rows)`, and the bundled demo model trained from the generated set.
- `target`: the `classifier` and `demo-classifier` target kinds: a request's payload is
  `{"features": {NAME: VALUE}}` (tabular) or `{"text": "..."}` (text); the reply's payload is
  `{"probabilities": {CLASS: P}, "label": CLASS}`. An HTTP endpoint is the `http` kind with a
  `{{payload...}}` body and a `payload_path` (see `probabilities_of` for the reply shapes).

scikit-learn and fairlearn are the `classic` extra; they are imported only when used.
"""
