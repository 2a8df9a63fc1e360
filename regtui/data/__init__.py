"""Data files that ship with regtui: the 8x8 digits (``digits.csv.gz``, see ``DIGITS-NOTICE.txt``).

Bundled so that the digits scenarios run after a plain ``pip install``: the file is scikit-learn's
copy of the UCI handwritten digits (57 KB), read by :func:`regtui.engine.custom.data.load_digits`.
"""
