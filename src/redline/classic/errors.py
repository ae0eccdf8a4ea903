"""What goes wrong between a request and a classifier's answer."""


class PredictError(ValueError):
    """The input does not fit the model (a missing feature, a wrong type), or the model
    cannot answer what was asked (no gradients): that attempt's error, never a guess."""
