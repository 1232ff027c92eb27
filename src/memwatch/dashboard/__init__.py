"""The memory dashboard: a static site of the history database (``memwatch dashboard``).

- :mod:`.scope`: which runs are shown (environment, branch, since);
- :mod:`.steps`: change-point candidates over long series (``detect_steps`` on less data);
- :mod:`.analysis`: each series' status and the change points that pass the gates;
- :mod:`.pages` and ``templates/``: what each page shows; ``assets/``: one CSS and one JS file;
- :mod:`.site`: the build, streaming one test at a time; :mod:`.prdiff`: the pull-request table.
"""
