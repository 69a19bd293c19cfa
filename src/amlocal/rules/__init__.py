"""Azure ML's rules, in one place, shared by the host and the in-job runtime; stdlib only.

Everything here runs on Python 3.8+ with the standard library alone and imports only its
own modules (relatively), because the package is also copied into training jobs, where
amlocal is not installed.

``names``   Azure ML's naming rules (workspace, experiment, compute target, datastore, model,
            environment, run id).
``paths``   run-file names, the containment check for host paths built from user input, and
            opening / copying files under a root without following links out of it.
``errors``  the ValueError subclasses the rules raise. On the host, importing
            ``amlocal.exceptions`` makes them raise subclasses that are also
            ``amlocal.exceptions.InvalidArgumentError`` (see ``errors``).
"""
