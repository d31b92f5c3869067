"""The model lifecycle: runs tracked in MLflow, the `spam-classifier` registry with its aliases and promotion gate.

`registry.py` wraps MLflow's client (its errors become `RegistryError` with a message a user can act on);
`python -m spam_service.models` is the operator's command line. The served model itself is `spam_service.model`.
"""
