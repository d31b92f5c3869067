"""DVC pipeline stages: prepare -> baseline, train -> evaluate -> export. Each runs as `python -m`."""
