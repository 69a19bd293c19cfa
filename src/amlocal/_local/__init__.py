"""What the local backends share: the SQLite + files run history and model registry, the
workspace directory layout, and the detached supervisor that takes a run through its phases."""
