"""The ``train`` kind: your own model, data and optimizer, described by a scenario file.

Torch-free on purpose (the CLI, the scenario loader and the dashboard's form use it
without importing torch). Its parts:

- :mod:`.params`: ``TRAIN``, the kind's scalar parameters (optimizer, lr, batch, steps, …);
- :mod:`.tables`: ``validate_tables``, which checks the file's ``[model]`` and ``[data]``
  tables and returns a normalized plain structure that the scenario carries;
- :mod:`.checks`: ``check_plan``, run when a plan is made (on every edit of the dashboard's
  form): what the files alone tell, without torch and without running anything — the
  shapes of a declarative layer list must chain (:mod:`.shapes`), the data set must be
  installed or present in its folder, the loss must fit the data, a factory's file must
  parse and define it (:mod:`.sources`);
- :mod:`.memory`: ``train_bytes``, the kind's peak-memory estimate.

Where the file names a Python factory (the one place a scenario runs code), the
factory is imported and called only in the process that trains, just before
training (:mod:`regtui.engine.custom.preflight`: headless before the run starts, the
dashboard's trainer as the run's one-line error), never while planning.
"""
