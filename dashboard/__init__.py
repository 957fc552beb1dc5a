"""The j1eval dashboard: ``streamlit run dashboard/app.py [-- --runs DIR]``.

Reads run directories (``python -m j1eval run``) and j1train outputs under one runs
directory and writes nothing. Modules: :mod:`dashboard.runs` (finding runs, reading files
safely), :mod:`dashboard.data` (one table of pairs per run and benchmark), :mod:`dashboard.filters`,
:mod:`dashboard.traces` (splitting a judge's output into thinking and verdict),
:mod:`dashboard.training` (j1train rollouts), :mod:`dashboard.figures` (the report's plots in
memory), ``dashboard/views/`` (the pages) and :mod:`dashboard.browser` (serving the app and
driving it with Playwright, for the browser test and the README screenshot).
"""
