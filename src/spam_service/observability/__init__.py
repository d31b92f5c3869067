"""Application logs (JSON lines, request ids) and Prometheus metrics."""
